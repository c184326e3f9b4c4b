//! Times as people read them: the browser's own clock and language (`Intl`, through
//! `Date.toLocaleString`), so no time zone table ships in the bundle. Today's times show
//! the hour ("14:05"); older ones the day too ("27 Nov, 14:05").

use paycard_core::Locale;
use wasm_bindgen::{JsCast, JsValue};

/// `timestamp` (RFC 3339) in the reader's time zone; empty if it does not parse.
pub fn clock(timestamp: &str, locale: Locale) -> String {
    let date = js_sys::Date::new(&JsValue::from_str(timestamp));
    if date.get_time().is_nan() {
        return String::new();
    }
    let options = js_sys::Object::new();
    let set = |key: &str, value: &str| {
        let _ = js_sys::Reflect::set(&options, &key.into(), &value.into());
    };
    set("hour", "2-digit");
    set("minute", "2-digit");
    if date.to_date_string() != js_sys::Date::new_0().to_date_string() {
        set("day", "numeric");
        set("month", "short");
    }
    date.to_locale_string(locale.tag(), &options).into()
}

/// The time now in `time_zone` (IANA), as the reader says it ("14:05"); empty if the
/// browser does not know the zone.
pub fn now_in(time_zone: &str, locale: Locale) -> String {
    let options = js_sys::Object::new();
    for (key, value) in [
        ("hour", "2-digit"),
        ("minute", "2-digit"),
        ("timeZone", time_zone),
    ] {
        let _ = js_sys::Reflect::set(&options, &key.into(), &value.into());
    }
    let now = js_sys::Date::new_0();
    // An unknown zone throws a RangeError; `to_locale_string` would not catch it.
    let format = js_sys::Reflect::get(&now, &"toLocaleTimeString".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    format
        .and_then(|f| f.call2(&now, &locale.tag().into(), &options).ok())
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}
