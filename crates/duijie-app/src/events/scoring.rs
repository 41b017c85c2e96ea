//! Scores of an event's candidate pairs: index candidates re-scored by the matching engine.

use super::*;

/// Largest number of salient terms of a need used as its query.
pub(super) const QUERY_TERMS: usize = 32;

/// Matching scores of every need against every partner (result or expert), in `[0, 1]`:
/// `(need id, partner kind, partner id, score)`, pairs without any common term left out.
///
/// The one place scores are made, so it can be switched to the matching engine when that
/// lands. For now: each need's query is its most salient terms (TF-IDF over the index,
/// title, keywords and description together), run against the index restricted to the
/// event's partners, and BM25 is divided by the need's best score, so every need's best
/// partner scores 1 and the rest are relative to it. Blocking; deterministic for one index
/// state.
/// Candidate pairs re-scored by the matching engine: the search index proposes, for each
/// need, the event's partners sharing its salient terms (BM25, best
/// [`ENGINE_CANDIDATES_PER_NEED`]), and the engine's explainable model scores each pair
/// (text relevance, industry, region, maturity, modes, budget, freshness) with the configured
/// weights. Pairs sharing no term are not candidates: the engine's neutral values for
/// unknown fields would otherwise make every pair look plausible.
pub fn event_scores(
    ctx: &App,
    needs: &[ListingText],
    partners: &[ListingText],
) -> Result<Vec<(i64, ListingKind, i64, f64)>, AppError> {
    let candidates = bm25_candidates(ctx, needs, partners)?;
    let matcher = &ctx.matcher;
    let weights = ctx.settings.matching.weights;
    let mut prepared_needs = HashMap::new();
    for n in needs {
        prepared_needs.insert(n.id, matcher.prepare(n)?);
    }
    let mut prepared_partners = HashMap::new();
    for p in partners {
        prepared_partners.insert((p.kind, p.id), matcher.prepare(p)?);
    }
    let mut per_need: BTreeMap<i64, Vec<(ListingKind, i64, f64)>> = BTreeMap::new();
    for (need, kind, id, bm25) in candidates {
        per_need.entry(need).or_default().push((kind, id, bm25));
    }
    let mut out = Vec::new();
    for (need, mut cands) in per_need {
        cands.sort_by(|a, b| b.2.total_cmp(&a.2).then((a.0, a.1).cmp(&(b.0, b.1))));
        cands.truncate(ENGINE_CANDIDATES_PER_NEED);
        let Some(pn) = prepared_needs.get(&need) else {
            continue;
        };
        for (kind, id, _) in cands {
            let Some(pp) = prepared_partners.get(&(kind, id)) else {
                continue;
            };
            let score = matcher.pair_score_only(pn, pp, &weights, None)?;
            out.push((need, kind, id, (score * 1e4).round() / 1e4));
        }
    }
    out.sort_by_key(|a| (a.0, a.1, a.2));
    Ok(out)
}

/// Candidates per need re-scored by the engine.
pub const ENGINE_CANDIDATES_PER_NEED: usize = 40;

pub(super) fn bm25_candidates(
    ctx: &App,
    needs: &[ListingText],
    partners: &[ListingText],
) -> Result<Vec<(i64, ListingKind, i64, f64)>, AppError> {
    use duijie_index::query::{FieldWeights, WeightedTerm, text_query, weighted_terms_query};
    use tantivy::collector::{DocSetCollector, TopDocs};
    use tantivy::query::{BooleanQuery, ConstScoreQuery, Occur, Query, TermSetQuery};
    use tantivy::schema::Value as _;
    if needs.is_empty() || partners.is_empty() {
        return Ok(Vec::new());
    }
    let index = &ctx.index;
    let f = index.fields();
    let searcher = index.searcher();
    let keys: Vec<tantivy::Term> = partners
        .iter()
        .map(|p| tantivy::Term::from_field_text(f.key, &format!("{}:{}", p.kind.code(), p.id)))
        .collect();
    let filter = TermSetQuery::new(keys);
    // which document is which partner
    let docs = searcher
        .search(&filter, &DocSetCollector)
        .map_err(internal)?;
    let mut who: HashMap<tantivy::DocAddress, (ListingKind, i64)> =
        HashMap::with_capacity(docs.len());
    for addr in docs {
        let doc: tantivy::TantivyDocument = searcher.doc(addr).map_err(internal)?;
        let kind = doc
            .get_first(f.kind)
            .and_then(|v| v.as_str())
            .and_then(ListingKind::parse);
        let id = doc.get_first(f.id).and_then(|v| v.as_i64());
        if let (Some(kind), Some(id)) = (kind, id) {
            who.insert(addr, (kind, id));
        }
    }
    let n_docs = index.num_docs().max(1) as f32;
    let idf = |t: &str| -> Option<f32> {
        let df = index.doc_freq(t);
        (df > 0).then(|| (n_docs / df as f32).ln().max(0.01))
    };
    let weights = FieldWeights {
        org: 0.0,
        ..FieldWeights::default()
    };
    let mut out = Vec::new();
    for need in needs {
        let text = format!(
            "{}\n{}\n{}",
            need.title,
            need.keywords.join("，"),
            need.body
        );
        let terms: Vec<WeightedTerm> =
            duijie_text::salient_terms(index.analyzer(), &text, &idf, &ctx.stopwords, QUERY_TERMS)
                .into_iter()
                .map(|(term, weight)| WeightedTerm { term, weight })
                .collect();
        let q = match weighted_terms_query(f, &weights, &terms) {
            Some(q) => q,
            None => {
                match text_query(index.analyzer(), index.synonyms(), f, &weights, &need.title) {
                    Some(q) => q,
                    None => continue,
                }
            }
        };
        let clauses: Vec<(Occur, Box<dyn Query>)> = vec![
            (Occur::Must, q),
            (
                Occur::Must,
                Box::new(ConstScoreQuery::new(Box::new(filter.clone()), 0.0)),
            ),
        ];
        let top = searcher
            .search(
                &BooleanQuery::new(clauses),
                &TopDocs::with_limit(partners.len()).order_by_score(),
            )
            .map_err(internal)?;
        let best = top.first().map(|(s, _)| *s).unwrap_or(0.0);
        if best <= 0.0 {
            continue;
        }
        let mut scored: Vec<(ListingKind, i64, f64)> = top
            .iter()
            .filter(|(s, _)| *s > 0.0)
            .filter_map(|(s, addr)| {
                who.get(addr).map(|(k, id)| {
                    (
                        *k,
                        *id,
                        ((f64::from(*s) / f64::from(best)) * 1e4).round() / 1e4,
                    )
                })
            })
            .collect();
        scored.sort_by_key(|a| (a.0, a.1));
        out.extend(scored.into_iter().map(|(k, id, s)| (need.id, k, id, s)));
    }
    Ok(out)
}
