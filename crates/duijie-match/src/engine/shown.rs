//! The texts of the matches shown recently, kept by where each listing is stored.
//!
//! Explaining a match reads the candidate's title, keywords and body back from the index's
//! document store (the model keeps only what scoring needs). What a segment stores never
//! changes, so a text read once can be kept under its place ([`StoredAt`]) for as long as
//! the segment lives, with no check: an edited listing is a new document elsewhere. The
//! listings that come back in the top matches are few compared with the index, and the same
//! ones come back for related needs, so a small cache saves most of these reads.

use super::corpus::FxHasher;
use duijie_domain::ListingText;
use duijie_index::similar::StoredAt;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault};
use std::sync::{Arc, Mutex};

/// Independently locked parts (requests explain their matches on several threads).
const SHARDS: usize = 8;
/// Approximate bytes of text a part keeps before it is emptied (all parts: about 32 MiB;
/// the estimate counts the texts, keywords and modes, not every small field).
const MAX_BYTES_PER_SHARD: usize = 4 << 20;

type FxBuild = BuildHasherDefault<FxHasher>;

#[derive(Default)]
struct Shard {
    texts: HashMap<StoredAt, Arc<ListingText>, FxBuild>,
    bytes: usize,
}

/// Listings read for explaining matches, by their place in the index.
pub(super) struct ShownTexts {
    shards: Box<[Mutex<Shard>]>,
}

impl Default for ShownTexts {
    fn default() -> Self {
        ShownTexts {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }
}

impl ShownTexts {
    /// The listing stored at `at`: kept, or `read` (outside any lock) and kept.
    pub(super) fn get_or_read<E>(
        &self,
        at: StoredAt,
        read: impl FnOnce() -> Result<ListingText, E>,
    ) -> Result<Arc<ListingText>, E> {
        let shard = &self.shards[(FxBuild::default().hash_one(at) >> 32) as usize % SHARDS];
        if let Some(l) = shard.lock().ok().and_then(|s| s.texts.get(&at).cloned()) {
            return Ok(l);
        }
        let listing = Arc::new(read()?);
        if let Ok(mut s) = shard.lock() {
            let size = listing.footprint();
            if s.bytes + size > MAX_BYTES_PER_SHARD {
                s.texts.clear();
                s.bytes = 0;
            }
            if size <= MAX_BYTES_PER_SHARD && s.texts.insert(at, listing.clone()).is_none() {
                s.bytes += size;
            }
        }
        Ok(listing)
    }

    /// Listings kept now (for tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().map_or(0, |s| s.texts.len()))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use duijie_domain::ListingKind;

    fn listing(id: i64, body_chars: usize) -> ListingText {
        ListingText {
            kind: ListingKind::Result,
            id,
            external_id: None,
            title: format!("成果{id}"),
            body: "氢".repeat(body_chars),
            keywords: vec!["制氢".into()],
            organization: None,
            industry: None,
            maturity: None,
            status: "published".into(),
            modes: Vec::new(),
            money_min: None,
            money_max: None,
            deadline: None,
            updated_at: "2026-12-01".into(),
        }
    }

    fn at(doc_id: u32) -> StoredAt {
        StoredAt {
            segment: tantivy::index::SegmentId::generate_random(),
            doc_id,
        }
    }

    #[test]
    fn a_place_is_read_once_then_served_from_the_cache() {
        let cache = ShownTexts::default();
        let place = at(3);
        let mut reads = 0;
        for _ in 0..3 {
            let got = cache
                .get_or_read(place, || {
                    reads += 1;
                    Ok::<_, ()>(listing(7, 100))
                })
                .unwrap();
            assert_eq!((got.id, got.body.chars().count()), (7, 100));
        }
        assert_eq!(reads, 1);
        // another place (another segment, or another document) is read on its own
        let other = cache
            .get_or_read(at(3), || Ok::<_, ()>(listing(8, 10)))
            .unwrap();
        assert_eq!(other.id, 8);
        // a failed read is returned and nothing is kept for it
        let failed = at(4);
        assert_eq!(
            cache.get_or_read(failed, || Err("gone")).unwrap_err(),
            "gone"
        );
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn the_kept_texts_stay_within_the_memory_bound() {
        let cache = ShownTexts::default();
        // 2,000 listings of about 30 KB each: far more than the bound
        for i in 0..2_000u32 {
            cache
                .get_or_read(at(i), || Ok::<_, ()>(listing(i64::from(i), 10_000)))
                .unwrap();
        }
        let kept = cache.len();
        assert!(kept > 0, "recent texts are kept");
        assert!(
            kept * 30_000 <= SHARDS * MAX_BYTES_PER_SHARD,
            "{kept} listings kept"
        );
        // a listing larger than a part's bound is returned but never kept
        let huge = at(9);
        let got = cache
            .get_or_read(huge, || Ok::<_, ()>(listing(1, MAX_BYTES_PER_SHARD)))
            .unwrap();
        assert_eq!(got.id, 1);
        let mut reread = false;
        cache
            .get_or_read(huge, || {
                reread = true;
                Ok::<_, ()>(listing(1, 1))
            })
            .unwrap();
        assert!(reread);
    }
}
