//! How the model's enumerations and flag sets cross the plugin boundary: as plain integers,
//! in the ABI types (`crate::abi`) and in packed import pages (`crate::page`) alike.
//!
//! Integers rather than `#[repr]` enums in the FFI types, so that a newer side can add a value
//! without a layout change (a minor version, see `VERSIONING.md`). A value this side does not
//! know decodes to a safe default, named in each `from_wire`, never to an error. Each type's
//! conversion sits next to the type; its wire values are part of the ABI: never renumber one.

/// A model type's wire form. Both directions are `#[inline]` in every implementation: page
/// reading and writing call them once per entry and record.
pub(crate) trait Wire: Copy {
    /// The integer that crosses the boundary.
    type Repr: Copy;
    fn to_wire(self) -> Self::Repr;
    /// The value of a wire integer; one this side does not know gives the safe default.
    fn from_wire(wire: Self::Repr) -> Self;
}

/// Checks an enumeration's wire form: `forms` pairs each variant with its wire value (see
/// [`assert_wire_forms!`]), and every value of `unknown` decodes to `default`.
#[cfg(test)]
pub(crate) fn check_wire_forms<T>(forms: &[(T, T::Repr)], unknown: &[T::Repr], default: T)
where
    T: Wire + PartialEq + std::fmt::Debug,
    T::Repr: PartialEq + std::fmt::Debug,
{
    for &(value, wire) in forms {
        assert_eq!(value.to_wire(), wire, "{value:?} is sent as another value");
        assert_eq!(
            T::from_wire(wire),
            value,
            "wire value {wire:?} is read back wrong"
        );
    }
    for &wire in unknown {
        assert!(
            forms.iter().all(|&(_, w)| w != wire),
            "{wire:?} is a known wire value"
        );
        assert_eq!(T::from_wire(wire), default, "unknown wire value {wire:?}");
    }
}

/// `assert_wire_forms!(Enum { Variant => wire, ... } unknown [wire, ...] => DefaultVariant)`:
/// [`check_wire_forms`] over every variant, each with the wire value it must have. A variant
/// missing from the list fails to compile, so a new variant cannot go untested.
#[cfg(test)]
macro_rules! assert_wire_forms {
    ($t:ident { $($v:ident => $w:expr),+ $(,)? } unknown [$($u:expr),+ $(,)?] => $default:ident) => {{
        #[allow(dead_code)]
        fn every_variant_is_listed(v: $t) {
            match v {
                $($t::$v => {})+
            }
        }
        $crate::model::wire::check_wire_forms(&[$(($t::$v, $w)),+], &[$($u),+], $t::$default);
    }};
}
#[cfg(test)]
pub(crate) use assert_wire_forms;
