//! Component weights: defaults, configuration, per-request overrides and validation.

use super::MatchError;
use serde::{Deserialize, Serialize};

/// The components of a match score, in breakdown order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ComponentKind {
    /// Text relevance (lexical TF-IDF cosine lifted by the semantic model).
    Text,
    /// Same, related or different industry.
    Industry,
    /// Same city, same zone (一圈一带两区), both in Liaoning, or outside.
    Region,
    /// The result's maturity against the need's required maturity.
    Maturity,
    /// Cooperation modes the need wants that the result accepts.
    Modes,
    /// The need's budget against the result's price.
    Budget,
    /// The need's deadline and how recently the listings were updated.
    Freshness,
}

impl ComponentKind {
    /// All components in breakdown order.
    pub const ALL: [ComponentKind; 7] = [
        ComponentKind::Text,
        ComponentKind::Industry,
        ComponentKind::Region,
        ComponentKind::Maturity,
        ComponentKind::Modes,
        ComponentKind::Budget,
        ComponentKind::Freshness,
    ];

    /// Stable code (`text`, `industry`, ...), as in configuration and JSON.
    pub fn code(self) -> &'static str {
        match self {
            ComponentKind::Text => "text",
            ComponentKind::Industry => "industry",
            ComponentKind::Region => "region",
            ComponentKind::Maturity => "maturity",
            ComponentKind::Modes => "modes",
            ComponentKind::Budget => "budget",
            ComponentKind::Freshness => "freshness",
        }
    }

    /// Chinese name.
    pub fn label_zh(self) -> &'static str {
        match self {
            ComponentKind::Text => "内容相关度",
            ComponentKind::Industry => "行业",
            ComponentKind::Region => "地域",
            ComponentKind::Maturity => "成熟度",
            ComponentKind::Modes => "合作方式",
            ComponentKind::Budget => "预算",
            ComponentKind::Freshness => "时效",
        }
    }
}

/// Relative weights of the components (`[matching.weights]` in the configuration).
///
/// Defaults: text 0.55, industry 0.12, region 0.08, maturity 0.08, modes 0.07, budget 0.05,
/// freshness 0.05 (they sum to 1, but only their ratios matter: the score divides by the
/// sum of the weights of the components that apply to the pair). Text carries most of the
/// weight because it is the only component that says what the listings are about; the
/// structured components reorder candidates that are about the same thing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MatchWeights {
    /// Text relevance.
    pub text: f64,
    /// Industry.
    pub industry: f64,
    /// Region.
    pub region: f64,
    /// Maturity.
    pub maturity: f64,
    /// Cooperation modes.
    pub modes: f64,
    /// Budget vs price.
    pub budget: f64,
    /// Deadline and recency.
    pub freshness: f64,
}

impl Default for MatchWeights {
    fn default() -> Self {
        MatchWeights {
            text: 0.55,
            industry: 0.12,
            region: 0.08,
            maturity: 0.08,
            modes: 0.07,
            budget: 0.05,
            freshness: 0.05,
        }
    }
}

/// A per-request override of some weights; absent fields keep the configured value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WeightsOverride {
    /// Text relevance.
    pub text: Option<f64>,
    /// Industry.
    pub industry: Option<f64>,
    /// Region.
    pub region: Option<f64>,
    /// Maturity.
    pub maturity: Option<f64>,
    /// Cooperation modes.
    pub modes: Option<f64>,
    /// Budget vs price.
    pub budget: Option<f64>,
    /// Deadline and recency.
    pub freshness: Option<f64>,
}

impl WeightsOverride {
    /// True when nothing is overridden.
    pub fn is_empty(&self) -> bool {
        *self == WeightsOverride::default()
    }
}

impl MatchWeights {
    /// The weight of a component.
    pub fn get(&self, c: ComponentKind) -> f64 {
        match c {
            ComponentKind::Text => self.text,
            ComponentKind::Industry => self.industry,
            ComponentKind::Region => self.region,
            ComponentKind::Maturity => self.maturity,
            ComponentKind::Modes => self.modes,
            ComponentKind::Budget => self.budget,
            ComponentKind::Freshness => self.freshness,
        }
    }

    fn slot(&mut self, c: ComponentKind) -> &mut f64 {
        match c {
            ComponentKind::Text => &mut self.text,
            ComponentKind::Industry => &mut self.industry,
            ComponentKind::Region => &mut self.region,
            ComponentKind::Maturity => &mut self.maturity,
            ComponentKind::Modes => &mut self.modes,
            ComponentKind::Budget => &mut self.budget,
            ComponentKind::Freshness => &mut self.freshness,
        }
    }

    /// Checks that every weight is finite and ≥ 0 and that not all are zero.
    pub fn validate(&self) -> Result<(), MatchError> {
        for c in ComponentKind::ALL {
            let v = self.get(c);
            if !v.is_finite() || v < 0.0 {
                return Err(MatchError::InvalidWeight {
                    component: c.code(),
                    value: v,
                });
            }
        }
        if ComponentKind::ALL.iter().all(|c| self.get(*c) == 0.0) {
            return Err(MatchError::AllWeightsZero);
        }
        Ok(())
    }

    /// These weights with `o`'s values where given, validated.
    pub fn with_overrides(&self, o: &WeightsOverride) -> Result<MatchWeights, MatchError> {
        let mut w = *self;
        let given = [
            o.text,
            o.industry,
            o.region,
            o.maturity,
            o.modes,
            o.budget,
            o.freshness,
        ];
        for (c, v) in ComponentKind::ALL.into_iter().zip(given) {
            if let Some(v) = v {
                *w.slot(c) = v;
            }
        }
        w.validate()?;
        Ok(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_sum_to_one_and_validate() {
        let w = MatchWeights::default();
        let sum: f64 = ComponentKind::ALL.iter().map(|c| w.get(*c)).sum();
        assert!((sum - 1.0).abs() < 1e-12);
        w.validate().expect("defaults are valid");
    }

    #[test]
    fn overrides_apply_a_subset_and_are_validated() {
        let base = MatchWeights::default();
        let w = base
            .with_overrides(&WeightsOverride {
                region: Some(0.5),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(w.region, 0.5);
        assert_eq!(w.text, base.text);
        let e = base
            .with_overrides(&WeightsOverride {
                text: Some(-1.0),
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(e.code(), "invalid_weight");
        assert!(e.message_zh().contains("text"));
        let e = base
            .with_overrides(&WeightsOverride {
                budget: Some(f64::NAN),
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(e.code(), "invalid_weight");
        let e = base
            .with_overrides(&WeightsOverride {
                budget: Some(f64::INFINITY),
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(e.code(), "invalid_weight");
        let zero = WeightsOverride {
            text: Some(0.0),
            industry: Some(0.0),
            region: Some(0.0),
            maturity: Some(0.0),
            modes: Some(0.0),
            budget: Some(0.0),
            freshness: Some(0.0),
        };
        let e = base.with_overrides(&zero).unwrap_err();
        assert_eq!(e, MatchError::AllWeightsZero);
        assert_eq!(e.code(), "weights_all_zero");
        assert!(!e.message_zh().is_empty() && !e.message_en().is_empty());
    }

    #[test]
    fn deserialises_partial_config_and_rejects_unknown_override_keys() {
        let w: MatchWeights = serde_json::from_str(r#"{"text": 0.7}"#).unwrap();
        assert_eq!(w.text, 0.7);
        assert_eq!(w.industry, MatchWeights::default().industry);
        let o: WeightsOverride = serde_json::from_str(r#"{"modes": 0.2}"#).unwrap();
        assert_eq!(o.modes, Some(0.2));
        assert!(!o.is_empty());
        assert!(serde_json::from_str::<WeightsOverride>(r#"{"txt": 0.2}"#).is_err());
    }
}
