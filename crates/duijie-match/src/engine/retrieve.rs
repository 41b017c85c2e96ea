//! Stages 1 and 2 of a match request: candidates from the index (the source's salient
//! terms and their synonyms, plus its nearest listings in the semantic space), then every
//! candidate re-scored with the full pair score, without explanations.

use super::{
    CorpusModel, MAX_CANDIDATES, MAX_LIMIT, MatchError, MatchOptions, MatchWeights, Matcher,
    Prepared, Rescored, ScoredCandidate, Side, par_map,
};
use duijie_domain::{ListingKind, ListingText};
use duijie_index::query::{FieldWeights, SYNONYM_WEIGHT, WeightedTerm};
use duijie_index::similar::CandidateFilter;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

impl Matcher {
    /// Stages 1 and 2 on `threads` threads (`vectors` gives the source's vectors under the
    /// model in force): the best `opts.limit` candidates by score (ties:
    /// stage-1 order), not explained; `None` when the source has no usable term.
    pub(super) fn rescore(
        &self,
        source: &ListingText,
        vectors: impl FnOnce(&CorpusModel) -> Arc<Prepared>,
        saved: bool,
        target: ListingKind,
        opts: &MatchOptions,
        threads: usize,
    ) -> Result<Option<Rescored>, MatchError> {
        if opts.limit == 0 || opts.limit > MAX_LIMIT {
            return Err(MatchError::InvalidLimit {
                value: opts.limit,
                max: MAX_LIMIT,
            });
        }
        let weights = self.weights.with_overrides(&opts.weights)?;
        let today = Self::today(opts.today.as_deref())?;
        let model = self.model()?;
        let src = vectors(&model);
        if src.terms.is_empty() {
            return Ok(None);
        }
        // stage 1: salient terms (+ synonyms) → candidates
        let qterms = self.query_terms(&model, &src);
        let filter = candidate_filter(source, saved, target, opts);
        let pool = opts
            .candidates
            .unwrap_or(self.config.candidates)
            .clamp(opts.limit, MAX_CANDIDATES);
        let searcher = self.index.searcher();
        let fw = FieldWeights {
            title: 2.0,
            keywords: 1.5,
            body: 1.0,
            org: 0.0,
        };
        let mut candidates: Vec<tantivy::DocAddress> = self
            .index
            .candidates(&searcher, &qterms, &fw, &filter, pool)?
            .into_iter()
            .map(|c| c.addr)
            .collect();
        // stage 1b: listings on the same topic in other words, from the semantic space
        if self.config.latent_candidates > 0
            && let Some(q) = src.semantic.as_deref()
        {
            self.add_latent_candidates(&model, &searcher, q, target, &filter, &mut candidates);
        }

        // stage 2: re-score (numbers only, vectors of indexed listings from the model)
        let src_side = Side {
            listing: source,
            prepared: &src,
            saved,
        };
        let stage2 = Stage2 {
            model: &model,
            searcher: &searcher,
            source: &src_side,
            target,
            weights: &weights,
            today,
        };
        let rescored = par_map(&candidates, threads, |rank, &addr| {
            self.score_candidate(&stage2, rank, addr)
        });
        let mut scored = Vec::with_capacity(rescored.len());
        for r in rescored {
            if let Some(x) = r? {
                scored.push(x);
            }
        }
        // equal scores (listings alike in every respect) in id order, not in the order the
        // index happens to hold them
        scored.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.listing.id.cmp(&b.listing.id))
                .then(a.rank.cmp(&b.rank))
        });
        scored.truncate(opts.limit);
        Ok(Some(Rescored {
            model,
            searcher,
            source: src,
            weights,
            today,
            top: scored,
        }))
    }

    /// The stage-1 query: the source's `config.query_terms` heaviest known terms (ties by
    /// term, so the query does not depend on hash order), weighted relative to the heaviest,
    /// then the single-term synonyms of each not already asked for, at
    /// [`SYNONYM_WEIGHT`] of their term's weight: a need and a result that name the same
    /// thing differently still meet.
    fn query_terms(&self, model: &CorpusModel, src: &Prepared) -> Vec<WeightedTerm> {
        let mut named: Vec<(&str, f64)> = src
            .terms
            .iter()
            .filter_map(|(k, w)| model.name(*k, src).map(|n| (n, f64::from(*w))))
            .collect();
        let heaviest =
            |a: &(&str, f64), b: &(&str, f64)| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0));
        // the n heaviest without sorting the hundreds of others (the order is total: distinct
        // names), then those n in order
        let n = self.config.query_terms.max(1);
        if named.len() > n {
            named.select_nth_unstable_by(n - 1, heaviest);
            named.truncate(n);
        }
        named.sort_unstable_by(heaviest);
        let top: Vec<(String, f64)> = named.into_iter().map(|(t, w)| (t.to_string(), w)).collect();
        let max = top.first().map_or(1.0, |t| t.1).max(f64::MIN_POSITIVE);
        let mut qterms: Vec<WeightedTerm> = top
            .iter()
            .map(|(t, w)| WeightedTerm {
                term: t.clone(),
                weight: (w / max) as f32,
            })
            .collect();
        let synonyms = self.index.synonyms();
        for (t, w) in &top {
            for e in synonyms.expand(std::slice::from_ref(t)) {
                for alt in e.alternatives {
                    if let [one] = alt.as_slice()
                        && !qterms.iter().any(|q| &q.term == one)
                    {
                        qterms.push(WeightedTerm {
                            term: one.clone(),
                            weight: (w / max) as f32 * SYNONYM_WEIGHT,
                        });
                    }
                }
            }
        }
        qterms
    }

    /// Stage 1b: append the source's nearest listings of the `target` kind in the semantic
    /// space that stage 1 did not find, so listings on the same topic in other words are
    /// scored too. The model is a snapshot: listings deleted or merged away since, and
    /// those the filter refuses, are skipped.
    fn add_latent_candidates(
        &self,
        model: &CorpusModel,
        searcher: &tantivy::Searcher,
        q: &[f32],
        target: ListingKind,
        filter: &CandidateFilter,
        candidates: &mut Vec<tantivy::DocAddress>,
    ) {
        let ords: HashMap<tantivy::index::SegmentId, u32> = searcher
            .segment_readers()
            .iter()
            .enumerate()
            .map(|(o, r)| (r.segment_id(), o as u32))
            .collect();
        let found: HashSet<tantivy::DocAddress> = candidates.iter().copied().collect();
        let near = model.nearest(target, q, self.config.latent_candidates, |at, d| {
            let Some(&ord) = ords.get(&at.segment) else {
                return false; // merged away since the model was built
            };
            let alive = searcher.segment_reader(ord).alive_bitset();
            !alive.is_some_and(|a| a.is_deleted(at.doc_id))
                && !found.contains(&tantivy::DocAddress::new(ord, at.doc_id))
                && filter.accepts(d)
        });
        candidates.extend(near.into_iter().filter_map(|(at, _, _)| {
            Some(tantivy::DocAddress::new(*ords.get(&at.segment)?, at.doc_id))
        }));
    }

    /// Stage 2 for one candidate (`rank` is its stage-1 position): its score against the
    /// source, or `None` when it is not a published listing of the `target` kind (the index
    /// may have changed since stage 1).
    fn score_candidate(
        &self,
        stage2: &Stage2<'_, '_>,
        rank: usize,
        addr: tantivy::DocAddress,
    ) -> Result<Option<ScoredCandidate>, MatchError> {
        let Stage2 {
            model,
            searcher,
            source: src_side,
            target,
            weights,
            today,
        } = *stage2;
        // a listing of the model's snapshot is scored from the model alone; one
        // stored since is read and analysed
        let (listing, prepared, complete) = match model.at(self.index.stored_at(searcher, addr)) {
            Some(d) => (d.listing.clone(), d.prepared.clone(), false),
            None => {
                let stored = self.index.stored_listing(searcher, addr)?;
                let prepared = model
                    .cached(
                        stored.listing.kind,
                        stored.listing.id,
                        &stored.encoded_terms,
                    )
                    .unwrap_or_else(|| Arc::new(model.prepare(stored.terms(), &self.stopwords)));
                (Arc::new(stored.listing), prepared, true)
            }
        };
        if listing.status != "published" || listing.kind != target {
            return Ok(None);
        }
        let cand = Side {
            listing: &listing,
            prepared: &prepared,
            saved: true,
        };
        let score = self
            .score_pair(model, src_side, &cand, weights, today, false)?
            .score;
        Ok(Some(ScoredCandidate {
            rank,
            score,
            addr,
            listing,
            complete,
            prepared,
        }))
    }
}

/// What the stage-2 scoring of every candidate of one request shares.
struct Stage2<'a, 's> {
    model: &'a CorpusModel,
    searcher: &'a tantivy::Searcher,
    /// The source listing.
    source: &'a Side<'s>,
    target: ListingKind,
    weights: &'a MatchWeights,
    today: i64,
}

/// Stage 1's filter: published listings of the `target` kind that pass the request's
/// filters, never the source itself (when saved and of the target kind) nor the excluded.
fn candidate_filter(
    source: &ListingText,
    saved: bool,
    target: ListingKind,
    opts: &MatchOptions,
) -> CandidateFilter {
    let mut exclude = opts.exclude.clone();
    if saved && source.kind == target {
        exclude.push((source.kind, source.id));
    }
    CandidateFilter {
        kind: Some(target),
        status: Some("published".to_string()),
        industry: opts.filters.industry.clone(),
        city: opts.filters.city.clone(),
        zone: opts.filters.zone.clone(),
        maturity: opts.filters.maturity.clone(),
        exclude,
    }
}
