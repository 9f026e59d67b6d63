//! The ticket reader (tickets dropped on the page, `--ticket` files): any bytes give a ticket or
//! a `TicketError`; a ticket it accepts writes back to bytes that read as the same ticket.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rticket_core::ticket::Ticket;

fuzz_target!(|data: &[u8]| {
    if let Ok(ticket) = Ticket::from_bytes(data) {
        let bytes = ticket.to_bytes().expect("an accepted ticket writes back");
        assert_eq!(Ticket::from_bytes(&bytes).expect("a written ticket reads"), ticket);
    }
});
