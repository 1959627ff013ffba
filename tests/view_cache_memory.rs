//! What the view cache costs in memory when full, counted by a global allocator: its bounds
//! (`MAX_CONVERSATIONS`, `MAX_CLIENT_IDS`) must fit well inside the isolate's 128 MB beside the
//! sockets, however many visitors a desk holds. Its own binary: the allocator is per binary.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use support_desk::desk::{Conversation, Write};
use support_desk::protocol::{Author, WireMessage, PREVIEW_CHARS};
use support_desk::view_cache::{ViewCache, MAX_CLIENT_IDS, MAX_CONVERSATIONS};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The largest cache a desk can be made to hold: every conversation at its bound, each with the
/// longest names and a preview of `PREVIEW_CHARS` four-byte characters, and client ids up to
/// their bound. The host is 64-bit, the wasm 32-bit: pointers here are twice their size there,
/// so this is an upper bound of the wasm's figure.
#[test]
fn a_full_cache_fits_in_a_small_share_of_the_isolate() {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let mut cache = ViewCache::default();
    let preview: String = "😀".repeat(PREVIEW_CHARS);
    let ids_each = MAX_CLIENT_IDS / MAX_CONVERSATIONS;
    for i in 0..MAX_CONVERSATIONS {
        let user_id = format!("{:08x}-0000-4000-8000-{:012x}", i, i);
        let mut conversation =
            Conversation::new(user_id.clone(), format!("Visitor name of sixty-four bytes at most, {i:>20}"));
        conversation.email = Some(format!("someone.with.a.long.address.{i}@example-company.com"));
        conversation.verified_id = Some(format!("host-site-user-{i:>48}"));
        cache.fill(conversation);
        let ids: Vec<String> = (0..ids_each).map(|k| format!("client-{k}")).collect();
        cache.fill_ids(&user_id, ids.iter().map(|c| (Author::User, user_id.as_str(), c.as_str())));
        let message = WireMessage {
            id: format!("m{i}"),
            seq: 1,
            sender: Author::User,
            message: preview.clone(),
            at: 1,
            client_msg_id: None,
            agent_id: None,
            agent_name: None,
            event: None,
            attachment: None,
        };
        cache.apply(&Write::Append { user_id, message, author_id: String::new() });
    }
    assert_eq!(cache.len(), MAX_CONVERSATIONS, "every conversation held");
    assert!(cache.ids_held() >= MAX_CLIENT_IDS * 9 / 10, "client ids near their bound: {}", cache.ids_held());
    let held = LIVE.load(Ordering::Relaxed) - before;
    let peak = PEAK.load(Ordering::Relaxed) - before;
    let per = held / MAX_CONVERSATIONS;
    println!("view cache full: {held} bytes held ({per} per conversation), peak {peak} bytes while filling");
    // 24 MiB: under a fifth of the isolate's 128 MB, leaving the rest to the sockets' JS objects,
    // the wasm's other state and V8.
    assert!(peak <= 24 << 20, "the full cache takes {peak} bytes at its peak ({per} per conversation)");
    drop(cache);
}
