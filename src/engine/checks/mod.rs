//! Probing a running stack from outside: containers and endpoints (health), the public
//! domain as a browser reaches it (public), and the relay's UDP port (stun).

pub mod health;
pub mod public;
pub mod stun;
