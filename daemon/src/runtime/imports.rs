//! What a rule module may import: WASI, defined but powerless; anything
//! else, a trap.
//!
//! Language runtimes packaged as components (componentize-py, componentize-js,
//! Rust's std) import WASI and call parts of it on their own: Python seeds its
//! hashes from `wasi:random`, Rust's `HashMap` does too, a JavaScript engine
//! reads the clock at start, `print` writes to stdout. Were those imports
//! traps, a rule in Python or JavaScript could not run at all. So WASI 0.2 is
//! defined, in a way that keeps a rule pure and deterministic (same module +
//! same input = same output, which receipts and `rulesd diff` depend on):
//!
//! - the wall clock reads 1970-01-01T00:00:00Z and the monotonic clock 0,
//!   always: the decision time is an input, never the host's clock;
//! - waiting (`subscribe-duration`, `subscribe-instant`, so `sleep`) returns
//!   at once: time does not pass inside a rule, and no call can park its
//!   fiber on a host timer where neither fuel nor the epoch deadline reach;
//! - random bytes are a fixed sequence, the same for every call;
//! - no environment variables, arguments, preopened directories or network;
//!   stdin is empty; stdout and stderr go to a small buffer of the call's
//!   last output, shown with a failed call's error (a Python traceback, a
//!   Rust panic message) and logged at debug level otherwise.
//!
//! The context is built on a call's first use of WASI only, so modules that
//! never call it (the default module imports none of it) pay nothing.
//!
//! Every other import (`wasi:http`, a host interface of some other embedder)
//! is a function that traps: the module loads, and a rule that calls one
//! fails its call instead of getting ambient authority.

use super::module::Sandbox;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::AsyncWrite;
use wasmtime::Engine;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{
    Component, Linker, LinkerInstance, Resource, ResourceTable, ResourceType,
};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::bindings::clocks::monotonic_clock;
use wasmtime_wasi::p2::{DynPollable, OutputStream, Pollable, StreamResult};
use wasmtime_wasi::{
    Deterministic, HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder, WasiCtxView,
    WasiView,
};

/// A call's WASI state, built on the call's first WASI import.
pub(super) struct Wasi {
    ctx: WasiCtx,
    table: ResourceTable,
    output: Output,
}

impl Wasi {
    fn locked_down() -> Self {
        let output = Output::default();
        let mut builder = WasiCtxBuilder::new();
        builder
            .stdout(output.clone())
            .stderr(output.clone())
            .wall_clock(Frozen)
            .monotonic_clock(Frozen)
            .secure_random(Deterministic::new(random_bytes()))
            .insecure_random(Deterministic::new(random_bytes()))
            .insecure_random_seed(u128::from(SEED) << 64 | u128::from(SEED))
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        Wasi {
            ctx: builder.build(),
            table: ResourceTable::new(),
            output,
        }
    }
}

/// Define every import `component` has, as the module docs describe.
pub(super) fn link(
    engine: &Engine,
    linker: &mut Linker<Sandbox>,
    component: &Component,
) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    // The stock monotonic clock waits on host timers; replace it.
    linker.allow_shadowing(true);
    monotonic_clock::add_to_linker::<Sandbox, FrozenTime>(linker, |s| FrozenClock {
        table: &mut s.wasi().table,
    })?;
    linker.allow_shadowing(false);
    // Not wasmtime's `define_unknown_imports_as_traps`: it matches names
    // exactly, so it would shadow a `wasi:clocks/wall-clock@0.2.6` import
    // with traps although the 0.2.12 definition above satisfies it.
    let ty = component.component_type();
    let (defined, others): (Vec<_>, Vec<_>) =
        ty.imports(engine).partition(|(name, _)| is_provided(name));
    // Resources of WASI that other imports use (`wasi:http/types` has
    // `input-stream` of `wasi:io/streams`) must stay WASI's.
    let wasi_resources: Vec<ResourceType> = defined
        .into_iter()
        .filter_map(|(_, item)| match item.ty {
            ComponentItem::ComponentInstance(i) => Some(i),
            _ => None,
        })
        .flat_map(|i| {
            i.exports(engine)
                .filter_map(|(_, item)| match item.ty {
                    ComponentItem::Resource(r) => Some(r),
                    _ => None,
                })
                .collect::<Vec<_>>()
        })
        .collect();
    for (name, item) in others {
        stub(engine, &mut linker.root(), &wasi_resources, name, item.ty)?;
    }
    Ok(())
}

/// The WASI packages `wasmtime_wasi::p2::add_to_linker_async` defines, whole.
const DEFINED: [&str; 6] = [
    "wasi:io/",
    "wasi:clocks/",
    "wasi:random/",
    "wasi:cli/",
    "wasi:filesystem/",
    "wasi:sockets/",
];

/// Whether the sandbox defines `import` (a component import's name): the
/// frozen WASI. Any other import is defined too, but traps when called.
pub fn is_provided(import: &str) -> bool {
    DEFINED.iter().any(|package| import.starts_with(package))
}

/// The host type of every resource of an import the sandbox does not provide:
/// no value of it ever exists, since every function that would make one traps.
struct Unprovided;

/// Define `name` so that instantiation succeeds and any call traps.
fn stub(
    engine: &Engine,
    linker: &mut LinkerInstance<'_, Sandbox>,
    wasi_resources: &[ResourceType],
    name: &str,
    item: ComponentItem,
) -> wasmtime::Result<()> {
    match item {
        ComponentItem::ComponentInstance(instance) => {
            let mut inner = linker.instance(name)?;
            for (export, item) in instance.exports(engine) {
                stub(engine, &mut inner, wasi_resources, export, item.ty)?;
            }
        }
        ComponentItem::Resource(r) if wasi_resources.contains(&r) => {}
        ComponentItem::ComponentFunc(_) => {
            let qualified = name.to_owned();
            linker.func_new(name, move |_, _, _, _| {
                Err(wasmtime::format_err!(
                    "the rule called `{qualified}`, which the sandbox does not provide"
                ))
            })?;
        }
        ComponentItem::Resource(_) => {
            linker.resource(name, ResourceType::host::<Unprovided>(), |_, _| Ok(()))?;
        }
        // Types need no definition; a component importing a core module or
        // a component fails to instantiate with wasmtime's own message.
        _ => {}
    }
    Ok(())
}

impl Sandbox {
    fn wasi(&mut self) -> &mut Wasi {
        self.wasi
            .get_or_insert_with(|| Box::new(Wasi::locked_down()))
    }

    /// Forget what earlier calls on this store wrote (a reused instance).
    pub(super) fn clear_output(&self) {
        if let Some(wasi) = &self.wasi {
            wasi.output.clear();
        }
    }

    /// What the call wrote to stdout and stderr (the end of it), if anything.
    pub(super) fn output(&self) -> Option<String> {
        let tail = self.wasi.as_ref()?.output.tail();
        (!tail.is_empty()).then_some(tail)
    }
}

impl WasiView for Sandbox {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let wasi = self.wasi();
        WasiCtxView {
            ctx: &mut wasi.ctx,
            table: &mut wasi.table,
        }
    }
}

/// Seed of the fixed random sequence (the digits of pi, so nothing up the
/// sleeve).
const SEED: u64 = 0x3243_F6A8_885A_308D;

/// 4 KiB of splitmix64 output from [`SEED`], repeated by [`Deterministic`].
fn random_bytes() -> Vec<u8> {
    let mut state = SEED;
    (0..512)
        .flat_map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (z ^ (z >> 31)).to_le_bytes()
        })
        .collect()
}

/// Both clocks, stopped at zero.
struct Frozen;

impl HostWallClock for Frozen {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for Frozen {
    fn resolution(&self) -> u64 {
        1
    }
    fn now(&self) -> u64 {
        0
    }
}

/// `wasi:clocks/monotonic-clock` with time stopped: every wait is over at once.
struct FrozenTime;

impl wasmtime::component::HasData for FrozenTime {
    type Data<'a> = FrozenClock<'a>;
}

struct FrozenClock<'a> {
    table: &'a mut ResourceTable,
}

/// A pollable that is always ready.
struct Elapsed;

#[wasmtime_wasi::async_trait]
impl Pollable for Elapsed {
    async fn ready(&mut self) {}
}

impl FrozenClock<'_> {
    fn elapsed(&mut self) -> wasmtime::Result<Resource<DynPollable>> {
        let pollable = self.table.push(Elapsed)?;
        wasmtime_wasi::p2::subscribe(self.table, pollable)
    }
}

impl monotonic_clock::Host for FrozenClock<'_> {
    fn now(&mut self) -> wasmtime::Result<monotonic_clock::Instant> {
        Ok(HostMonotonicClock::now(&Frozen))
    }
    fn resolution(&mut self) -> wasmtime::Result<monotonic_clock::Duration> {
        Ok(HostMonotonicClock::resolution(&Frozen))
    }
    fn subscribe_instant(
        &mut self,
        _when: monotonic_clock::Instant,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        self.elapsed()
    }
    fn subscribe_duration(
        &mut self,
        _duration: monotonic_clock::Duration,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        self.elapsed()
    }
}

/// How much of a call's output is kept: the end of a Python traceback or a
/// panic message, not a rule's whole chatter.
const OUTPUT_TAIL: usize = 2048;

/// stdout and stderr of one call, interleaved as a terminal would show them;
/// only the last [`OUTPUT_TAIL`] bytes are kept. Writes never fail or block.
#[derive(Clone, Default)]
pub(super) struct Output(Arc<Mutex<Vec<u8>>>);

impl Output {
    fn clear(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    fn push(&self, bytes: &[u8]) {
        let mut buffer = self.0.lock().unwrap_or_else(|e| e.into_inner());
        buffer.extend_from_slice(bytes);
        if buffer.len() > 2 * OUTPUT_TAIL {
            let cut = buffer.len() - OUTPUT_TAIL;
            buffer.drain(..cut);
        }
    }

    /// The last output, trimmed, as text (lossy: a cut may split a
    /// character), without the line in which Rust's std suggests
    /// RUST_BACKTRACE, a variable no rule can have.
    pub(super) fn tail(&self) -> String {
        let buffer = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let tail = &buffer[buffer.len().saturating_sub(OUTPUT_TAIL)..];
        String::from_utf8_lossy(tail)
            .lines()
            .filter(|l| !l.starts_with("note: run with `RUST_BACKTRACE=1`"))
            .collect::<Vec<_>>()
            .join("\n")
            .trim()
            .to_owned()
    }
}

impl IsTerminal for Output {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Output {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for Output {
    fn write(&mut self, bytes: bytes::Bytes) -> StreamResult<()> {
        self.push(&bytes);
        Ok(())
    }
    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }
    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 << 10)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for Output {
    async fn ready(&mut self) {}
}

impl AsyncWrite for Output {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.push(bytes);
        Poll::Ready(Ok(bytes.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
