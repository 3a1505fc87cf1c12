//! Addresses and ranges as numbers: an IPv4 or IPv6 address is a `u128`
//! (IPv4 in the low 32 bits) with its family beside it, so a range of
//! either family is two numbers and free space is a set of intervals.
//! Parsing and printing go through `std::net` and `ipnet`.

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use utoipa::ToSchema;

/// IPv4 or IPv6.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    #[default]
    Ipv4,
    Ipv6,
}

impl Family {
    pub fn of(ip: IpAddr) -> Family {
        match ip {
            IpAddr::V4(_) => Family::Ipv4,
            IpAddr::V6(_) => Family::Ipv6,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Family::Ipv4 => "IPv4",
            Family::Ipv6 => "IPv6",
        }
    }
}

/// An address as a number.
pub fn to_number(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u32::from(v4).into(),
        IpAddr::V6(v6) => v6.into(),
    }
}

/// The address `n` of `family`, as text. `n` fits the family (it came from
/// a range of it).
pub fn to_text(family: Family, n: u128) -> String {
    match family {
        Family::Ipv4 => Ipv4Addr::from(n as u32).to_string(),
        Family::Ipv6 => Ipv6Addr::from(n).to_string(),
    }
}

/// One address in text, of any family.
pub fn parse_address(text: &str) -> Result<(Family, u128), String> {
    let ip: IpAddr = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not an IPv4 or IPv6 address"))?;
    Ok((Family::of(ip), to_number(ip)))
}

/// An inclusive range of addresses of one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub family: Family,
    pub first: u128,
    pub last: u128,
}

impl Span {
    /// How many addresses it holds.
    pub fn count(&self) -> u128 {
        // A whole-family span (::/0) has 2^128 addresses, one more than u128
        // holds; pools that large are refused at creation (see `MAX_BITS`).
        self.last - self.first + 1
    }

    pub fn contains(&self, n: u128) -> bool {
        self.first <= n && n <= self.last
    }

    pub fn overlaps(&self, other: &Span) -> bool {
        self.family == other.family && self.first <= other.last && other.first <= self.last
    }

    /// As given back to people: "a-b", or "a" for one address.
    pub fn text(&self) -> String {
        if self.first == self.last {
            to_text(self.family, self.first)
        } else {
            format!(
                "{}-{}",
                to_text(self.family, self.first),
                to_text(self.family, self.last)
            )
        }
    }
}

/// The widest range a pool may hold: 2^64 addresses (an IPv6 /64), so every
/// count fits a `u128` with room to add.
pub const MAX_BITS: u32 = 64;

/// A range in text: a CIDR block ("10.0.0.0/24", "2001:db8::/64"), a
/// start-end range ("10.0.0.10-10.0.0.50") or one address.
pub fn parse_span(text: &str) -> Result<Span, String> {
    let text = text.trim();
    let span = if let Some((a, b)) = text.split_once('-') {
        let (fa, first) = parse_address(a)?;
        let (fb, last) = parse_address(b)?;
        if fa != fb {
            return Err(format!("{text:?} mixes IPv4 and IPv6"));
        }
        if first > last {
            return Err(format!("{text:?} ends before it starts"));
        }
        Span {
            family: fa,
            first,
            last,
        }
    } else if text.contains('/') {
        let net: IpNet = text
            .parse()
            .map_err(|_| format!("{text:?} is not a CIDR block such as 10.0.0.0/24"))?;
        if net.network() != net.addr() {
            return Err(format!(
                "{text:?} has host bits set: the block is {}",
                net.trunc()
            ));
        }
        Span {
            family: Family::of(net.addr()),
            first: to_number(net.network()),
            last: to_number(net.broadcast()),
        }
    } else {
        let (family, n) = parse_address(text)?;
        Span {
            family,
            first: n,
            last: n,
        }
    };
    if span.last - span.first >= 1u128 << MAX_BITS {
        return Err(format!(
            "{text:?} holds more than 2^{MAX_BITS} addresses (an IPv6 /64); split it"
        ));
    }
    Ok(span)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_from_cidr_start_end_and_single_addresses() {
        let s = parse_span("10.0.0.0/30").unwrap();
        assert_eq!((s.first, s.last, s.count()), (0x0a00_0000, 0x0a00_0003, 4));
        assert_eq!(s.text(), "10.0.0.0-10.0.0.3");
        let s = parse_span("10.0.0.10 - 10.0.0.12").unwrap();
        assert_eq!(s.count(), 3);
        assert_eq!(parse_span("192.0.2.7").unwrap().text(), "192.0.2.7");
        let v6 = parse_span("2001:db8::/64").unwrap();
        assert_eq!(v6.family, Family::Ipv6);
        assert_eq!(v6.count(), 1u128 << 64);
        assert_eq!(to_text(Family::Ipv6, v6.first), "2001:db8::");
    }

    #[test]
    fn bad_ranges_say_what_is_wrong() {
        for (text, says) in [
            ("10.0.0.1/24", "host bits"),
            ("10.0.0.9-10.0.0.1", "ends before"),
            ("10.0.0.1-2001:db8::1", "mixes"),
            ("10.0.0.256", "not an IPv4"),
            ("2001:db8::/48", "more than 2^64"),
            ("10.0.0.0/33", "not a CIDR"),
        ] {
            let e = parse_span(text).unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn spans_of_different_families_never_overlap() {
        let a = parse_span("10.0.0.0/24").unwrap();
        let b = parse_span("10.0.0.128/25").unwrap();
        let c = parse_span("::a00:0/120").unwrap();
        assert!(a.overlaps(&b) && b.overlaps(&a));
        assert!(!a.overlaps(&c));
    }
}
