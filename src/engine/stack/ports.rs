//! Host-side port checks (the choice itself is the pure [`crate::domain::ports::choose`]).

use std::net::{Ipv4Addr, UdpSocket};

/// True when nothing on this host holds UDP `port` on any address: nbmsp publishes customers'
/// STUN ports on 0.0.0.0, so a bind there is the honest test.
pub fn udp_port_free(port: u16) -> bool {
    UdpSocket::bind((Ipv4Addr::UNSPECIFIED, port)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bound_port_is_not_free() {
        let held = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).unwrap();
        let port = held.local_addr().unwrap().port();
        assert!(!udp_port_free(port));
        drop(held);
        assert!(udp_port_free(port));
    }
}
