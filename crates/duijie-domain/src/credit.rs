//! 统一社会信用代码 (unified social credit code, GB 32100-2015): 18 characters from a
//! 31-character set (digits and capitals without I, O, S, V, Z), the last a check
//! character computed from the first 17 with weights 3^i mod 31.

/// The code's character set, in value order.
const CHARSET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Weights of positions 1–17.
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

fn value(c: char) -> Option<u32> {
    CHARSET.find(c).map(|i| i as u32)
}

/// The check character for the first 17 characters (which must be from the set).
pub fn check_character(first17: &str) -> Option<char> {
    let mut sum = 0;
    let mut n = 0;
    for (c, w) in first17.chars().zip(WEIGHTS) {
        sum += value(c)? * w;
        n += 1;
    }
    if n != 17 || first17.chars().count() != 17 {
        return None;
    }
    let v = (31 - sum % 31) % 31;
    CHARSET.chars().nth(v as usize)
}

/// Why a code is refused, in Chinese and English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditCodeError {
    /// 中文.
    pub zh: String,
    /// English.
    pub en: String,
}

/// Normalises (trims, upper-cases) and checks a code: length, characters, check character.
pub fn check(raw: &str) -> Result<String, CreditCodeError> {
    let code: String = raw.trim().to_uppercase();
    let len = code.chars().count();
    if len != 18 {
        return Err(CreditCodeError {
            zh: format!("统一社会信用代码应为 18 位，“{}”为 {len} 位", raw.trim()),
            en: format!(
                "a unified social credit code has 18 characters; '{}' has {len}",
                raw.trim()
            ),
        });
    }
    if let Some(bad) = code.chars().find(|c| value(*c).is_none()) {
        return Err(CreditCodeError {
            zh: format!("统一社会信用代码不能含“{bad}”（只用数字和除 I、O、S、V、Z 外的大写字母）"),
            en: format!(
                "'{bad}' cannot appear in a unified social credit code (digits and capitals except I, O, S, V, Z)"
            ),
        });
    }
    let (body, last) = code.split_at(17);
    let want = check_character(body).unwrap_or('?');
    if !last.starts_with(want) {
        return Err(CreditCodeError {
            zh: format!(
                "统一社会信用代码校验位不符：按前 17 位应为“{want}”，而不是“{last}”，请核对"
            ),
            en: format!(
                "the check character of this unified social credit code should be '{want}' for its first 17 characters, not '{last}'; please check it"
            ),
        });
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_codes_pass() {
        // codes printed on business licences (public registers)
        for c in [
            "91350100M000100Y43",
            "91110000802100433B",
            "911100001000079554",
        ] {
            assert_eq!(check(c).as_deref(), Ok(c), "{c}");
        }
        assert_eq!(check(" 91350100m000100y43 ").unwrap(), "91350100M000100Y43");
    }

    #[test]
    fn a_wrong_check_character_names_the_right_one() {
        let e = check("91350100M000100Y44").unwrap_err();
        assert!(e.zh.contains("应为“3”"), "{}", e.zh);
        assert!(e.en.contains("'3'"), "{}", e.en);
    }

    #[test]
    fn length_and_characters_are_checked() {
        assert!(check("9135010").unwrap_err().zh.contains("18 位"));
        assert!(check("91350100I000100Y43").unwrap_err().zh.contains("“I”"));
    }

    #[test]
    fn every_single_character_change_is_caught() {
        let good = "91350100M000100Y43";
        for i in 0..18 {
            for c in CHARSET.chars() {
                let mut v: Vec<char> = good.chars().collect();
                if v[i] == c {
                    continue;
                }
                v[i] = c;
                let s: String = v.into_iter().collect();
                assert!(check(&s).is_err(), "{s} passed");
            }
        }
    }
}
