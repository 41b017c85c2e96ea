use serde::Serialize;

/// One problem with one field of a client's input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field's name as the client sent it (`title`, `keywords[2]`, `price_min`).
    pub field: String,
    /// A stable machine code (`required`, `too_long`, `invalid_choice`, `invalid_type`...).
    pub code: &'static str,
    /// `中文 / English` message a person can act on.
    pub message: String,
}

/// All the field errors of one record; never empty when returned as an error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    /// Records one error.
    pub fn push(
        &mut self,
        field: impl Into<String>,
        code: &'static str,
        zh: impl AsRef<str>,
        en: impl AsRef<str>,
    ) {
        self.0.push(FieldError {
            field: field.into(),
            code,
            message: format!("{} / {}", zh.as_ref(), en.as_ref()),
        });
    }

    /// True when no error was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when empty, otherwise `Err(self)`.
    pub fn into_result<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }

    /// One line summarising every error, for logs and import reports.
    pub fn summary(&self) -> String {
        self.0
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.summary())
    }
}

impl std::error::Error for FieldErrors {}
