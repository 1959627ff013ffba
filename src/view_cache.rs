//! A bounded in-memory copy of the facts the core reads on every message: each conversation's
//! row and which `clientMsgId`s it already holds. Filled lazily from SQLite, kept in step with
//! every write the object makes (it is the desk's only writer), dropped whole when a write fails.
//!
//! Why: a visitor message or a reply needs the conversation (status, assignee, unread) and a
//! duplicate check before its two writes. Asked of SQLite, that is two more statements per
//! message, each decoded across the JS boundary: about a third of the desk's CPU per message.
//! Held here, a message costs its writes only.
//!
//! It is a cache, never the only copy: a new instance starts empty, and anything evicted or
//! never loaded is asked of SQLite again. Bounded in conversations and in client ids held, so
//! 32k visitors cannot grow the isolate without limit.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

use crate::desk::{Conversation, Write};
use crate::protocol::Author;

/// Conversations held at most; the least recently used go first.
pub const MAX_CONVERSATIONS: usize = 4096;
/// Client ids held at most across all conversations (8 bytes each, plus the set's overhead).
pub const MAX_CLIENT_IDS: usize = 262_144;
/// A conversation with more client ids than this keeps asking SQLite about duplicates.
pub const MAX_CLIENT_IDS_PER_CONVERSATION: usize = 4096;

/// What the cache knows about a `clientMsgId` in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// Certainly not stored yet: no need to ask SQLite.
    No,
    /// Possibly stored (held, a hash collision, or too many to hold): ask SQLite.
    Maybe,
    /// The conversation's ids are not loaded: load them (`fill_ids`), then ask again.
    Unknown,
}

/// The client ids of one conversation, as hashes of (kind, author, clientMsgId).
#[derive(Debug)]
enum Ids {
    Unloaded,
    TooMany,
    Known(HashSet<u64>),
}

#[derive(Debug)]
struct Entry {
    conversation: Conversation,
    ids: Ids,
    used: u64,
}

#[derive(Debug)]
pub struct ViewCache {
    entries: HashMap<String, Entry>,
    tick: u64,
    ids_held: usize,
    max_conversations: usize,
    max_ids: usize,
}

impl Default for ViewCache {
    fn default() -> Self {
        ViewCache::new(MAX_CONVERSATIONS, MAX_CLIENT_IDS)
    }
}

fn key(sender: Author, author_id: &str, client_msg_id: &str) -> u64 {
    // SipHash with fixed keys: deterministic, and a collision only costs one SQLite read.
    let mut h = DefaultHasher::new();
    (sender.as_str(), author_id, client_msg_id).hash(&mut h);
    h.finish()
}

impl ViewCache {
    pub fn new(max_conversations: usize, max_ids: usize) -> Self {
        ViewCache { entries: HashMap::new(), tick: 0, ids_held: 0, max_conversations, max_ids }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Client ids held, over all conversations.
    pub fn ids_held(&self) -> usize {
        self.ids_held
    }

    /// The conversation as SQLite says, if held.
    pub fn conversation(&mut self, user_id: &str) -> Option<Conversation> {
        self.tick += 1;
        let entry = self.entries.get_mut(user_id)?;
        entry.used = self.tick;
        Some(entry.conversation.clone())
    }

    /// Holds a conversation just read from SQLite (what it holds already stays: it is as new).
    pub fn fill(&mut self, conversation: Conversation) {
        if self.entries.contains_key(&conversation.user_id) {
            return;
        }
        self.insert(conversation, Ids::Unloaded);
    }

    /// Whether `client_msg_id` may already be stored for this author and kind.
    pub fn seen(&self, user_id: &str, sender: Author, author_id: &str, client_msg_id: &str) -> Seen {
        match self.entries.get(user_id).map(|e| &e.ids) {
            None | Some(Ids::Unloaded) => Seen::Unknown,
            Some(Ids::TooMany) => Seen::Maybe,
            Some(Ids::Known(ids)) if ids.contains(&key(sender, author_id, client_msg_id)) => Seen::Maybe,
            Some(Ids::Known(_)) => Seen::No,
        }
    }

    /// Holds every client id of a held conversation, as read from SQLite: `ids` is all of them
    /// unless it has more than [`MAX_CLIENT_IDS_PER_CONVERSATION`] (then none are held).
    pub fn fill_ids<'a>(&mut self, user_id: &str, ids: impl ExactSizeIterator<Item = (Author, &'a str, &'a str)>) {
        let Some(entry) = self.entries.get_mut(user_id) else {
            return;
        };
        if !matches!(entry.ids, Ids::Unloaded) {
            return;
        }
        if ids.len() > MAX_CLIENT_IDS_PER_CONVERSATION {
            entry.ids = Ids::TooMany;
            return;
        }
        let set: HashSet<u64> = ids.map(|(s, a, c)| key(s, a, c)).collect();
        self.ids_held += set.len();
        entry.ids = Ids::Known(set);
        self.shrink();
    }

    /// Keeps held conversations in step with a write that SQLite has just applied.
    pub fn apply(&mut self, write: &Write) {
        if let Write::CreateVisitor { user_id, name, verified_id, .. } = write {
            // Nothing is stored for a visitor created just now: every fact of it is known.
            let mut conversation = Conversation::new(user_id.clone(), name.clone());
            conversation.verified_id = verified_id.clone();
            self.remove(user_id);
            self.insert(conversation, Ids::Known(HashSet::new()));
            return;
        }
        if let Write::Delete { user_id } = write {
            // Gone from SQLite: held no more (a later read finds nothing there either).
            self.remove(user_id);
            return;
        }
        let Some(entry) = write.user_id().and_then(|id| self.entries.get_mut(id)) else {
            return;
        };
        entry.conversation.apply(write);
        if let Write::Append { message, author_id, .. } = write {
            if let (Some(id), Ids::Known(ids)) = (&message.client_msg_id, &mut entry.ids) {
                if ids.insert(key(message.sender, author_id, id)) {
                    self.ids_held += 1;
                }
                if ids.len() > MAX_CLIENT_IDS_PER_CONVERSATION {
                    self.ids_held -= ids.len();
                    entry.ids = Ids::TooMany;
                }
                self.shrink();
            }
        }
    }

    /// Forgets everything: after a failed write, what SQLite holds is no longer known here.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.ids_held = 0;
    }

    fn insert(&mut self, conversation: Conversation, ids: Ids) {
        self.tick += 1;
        if let Ids::Known(set) = &ids {
            self.ids_held += set.len();
        }
        let entry = Entry { conversation, ids, used: self.tick };
        self.entries.insert(entry.conversation.user_id.clone(), entry);
        self.shrink();
    }

    fn remove(&mut self, user_id: &str) {
        if let Some(Entry { ids: Ids::Known(set), .. }) = self.entries.remove(user_id) {
            self.ids_held -= set.len();
        }
    }

    /// Over a bound: drops the least recently used eighth (at least one), so eviction costs
    /// one sort per many inserts rather than a scan per insert.
    fn shrink(&mut self) {
        while !self.entries.is_empty() && (self.entries.len() > self.max_conversations || self.ids_held > self.max_ids)
        {
            let mut ages: Vec<u64> = self.entries.values().map(|e| e.used).collect();
            let drop = (ages.len() / 8).max(1);
            let (_, oldest, _) = ages.select_nth_unstable(drop - 1);
            let cutoff = *oldest;
            let old: Vec<String> =
                self.entries.iter().filter(|(_, e)| e.used <= cutoff).map(|(k, _)| k.clone()).collect();
            for user_id in old {
                self.remove(&user_id);
            }
        }
    }
}
