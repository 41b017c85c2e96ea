//! Liaoning's cities and the "one circle, one belt, two zones" (一圈一带两区) they belong to.
//!
//! Region is a preference, not a wall: cities outside the province are accepted and simply
//! belong to no zone.

use serde::Serialize;

/// A regional-coordination zone of the province.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Zone {
    /// 沈阳现代化都市圈.
    ShenyangMetro,
    /// 辽宁沿海经济带.
    CoastalBelt,
    /// 辽西融入京津冀协同发展战略先导区.
    WesternZone,
    /// 辽东绿色经济区.
    EasternZone,
}

impl Zone {
    /// All zones in the programme's order.
    pub const ALL: [Zone; 4] = [
        Zone::ShenyangMetro,
        Zone::CoastalBelt,
        Zone::WesternZone,
        Zone::EasternZone,
    ];

    /// Stable code used in the index, filters and JSON.
    pub fn code(self) -> &'static str {
        match self {
            Zone::ShenyangMetro => "shenyang_metro",
            Zone::CoastalBelt => "coastal_belt",
            Zone::WesternZone => "western_zone",
            Zone::EasternZone => "eastern_zone",
        }
    }

    /// The zone's Chinese name.
    pub fn label_zh(self) -> &'static str {
        match self {
            Zone::ShenyangMetro => "沈阳现代化都市圈",
            Zone::CoastalBelt => "辽宁沿海经济带",
            Zone::WesternZone => "辽西融入京津冀协同发展战略先导区",
            Zone::EasternZone => "辽东绿色经济区",
        }
    }

    /// Parses a zone code.
    pub fn parse(code: &str) -> Option<Zone> {
        Zone::ALL.into_iter().find(|z| z.code() == code)
    }
}

/// The province's 14 prefecture-level cities and the 沈抚 demonstration zone, by short name.
pub const LIAONING_CITIES: [&str; 15] = [
    "沈阳",
    "大连",
    "鞍山",
    "抚顺",
    "本溪",
    "丹东",
    "锦州",
    "营口",
    "阜新",
    "辽阳",
    "盘锦",
    "铁岭",
    "朝阳",
    "葫芦岛",
    "沈抚示范区",
];

/// Normalises a city as people type it: `沈阳市` → `沈阳`, `沈抚改革创新示范区` → `沈抚示范区`.
pub fn normalize_city(city: &str) -> String {
    city_key(city).to_string()
}

/// [`normalize_city`] without allocating: the normalised name, borrowed from `city` or a
/// constant.
pub fn city_key(city: &str) -> &str {
    let c = city.trim();
    if c.starts_with("沈抚") {
        return "沈抚示范区";
    }
    c.strip_suffix('市').unwrap_or(c)
}

/// True when the city (normalised) is one of Liaoning's.
pub fn in_province(city: &str) -> bool {
    LIAONING_CITIES.contains(&city_key(city))
}

/// The zones of 一圈一带两区 with the cities of each.
const ZONE_CITIES: [(Zone, &[&str]); 4] = [
    (
        Zone::ShenyangMetro,
        &[
            "沈阳",
            "鞍山",
            "抚顺",
            "本溪",
            "阜新",
            "辽阳",
            "铁岭",
            "沈抚示范区",
        ],
    ),
    (
        Zone::CoastalBelt,
        &["大连", "丹东", "锦州", "营口", "盘锦", "葫芦岛"],
    ),
    (Zone::WesternZone, &["朝阳", "阜新", "锦州", "葫芦岛"]),
    (Zone::EasternZone, &["丹东", "本溪", "抚顺"]),
];

/// The zones a city belongs to (a city may belong to several; none outside the province).
pub fn zones_of_city(city: &str) -> Vec<Zone> {
    let c = city_key(city);
    ZONE_CITIES
        .iter()
        .filter(|(_, cities)| cities.contains(&c))
        .map(|(z, _)| *z)
        .collect()
}

/// The first zone (in [`zones_of_city`]'s order) that both cities belong to, without
/// allocating.
pub fn shared_zone(a: &str, b: &str) -> Option<Zone> {
    let (a, b) = (city_key(a), city_key(b));
    ZONE_CITIES
        .iter()
        .find(|(_, cities)| cities.contains(&a) && cities.contains(&b))
        .map(|(z, _)| *z)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cities_belong_to_the_programmes_zones() {
        assert_eq!(zones_of_city("沈阳市"), vec![Zone::ShenyangMetro]);
        assert_eq!(
            zones_of_city("锦州"),
            vec![Zone::CoastalBelt, Zone::WesternZone]
        );
        assert_eq!(
            zones_of_city("阜新"),
            vec![Zone::ShenyangMetro, Zone::WesternZone]
        );
        assert_eq!(
            zones_of_city("丹东"),
            vec![Zone::CoastalBelt, Zone::EasternZone]
        );
        assert_eq!(
            zones_of_city("沈抚改革创新示范区"),
            vec![Zone::ShenyangMetro]
        );
        assert!(zones_of_city("北京").is_empty());
        // the zone two cities share: the first of the first city's zones that the second has
        assert_eq!(shared_zone("锦州市", "葫芦岛"), Some(Zone::CoastalBelt));
        assert_eq!(shared_zone("阜新", "朝阳"), Some(Zone::WesternZone));
        assert_eq!(
            shared_zone("沈抚改革创新示范区", "沈阳"),
            Some(Zone::ShenyangMetro)
        );
        assert_eq!(shared_zone("大连", "沈阳"), None);
        assert_eq!(shared_zone("北京", "北京"), None);
        for a in LIAONING_CITIES {
            for b in LIAONING_CITIES {
                let za = zones_of_city(a);
                let expected = zones_of_city(b).into_iter().find(|z| za.contains(z));
                assert_eq!(shared_zone(b, a), expected, "{a} {b}");
            }
        }
        assert!(!in_province("哈尔滨"));
        assert!(in_province("葫芦岛市"));
        // every city of the province is in at least one zone
        for c in LIAONING_CITIES {
            assert!(!zones_of_city(c).is_empty(), "{c} has no zone");
        }
    }
}
