//! QEMU's mapping of schema names to C identifiers, which decides when two
//! names clash.

/// True for the words a C identifier made from a schema name must not be:
/// C and C++ keywords, and names system headers define.
fn is_reserved(word: &str) -> bool {
    matches!(
        word,
        // C89
        "auto" | "break" | "case" | "char" | "const" | "continue" | "default" | "do" | "double" | "else"
            | "enum" | "extern" | "float" | "for" | "goto" | "if" | "int" | "long" | "register" | "return"
            | "short" | "signed" | "sizeof" | "static" | "struct" | "switch" | "typedef" | "union"
            | "unsigned" | "void" | "volatile" | "while"
            // C99
            | "inline" | "restrict" | "_Bool" | "_Complex" | "_Imaginary"
            // C11
            | "_Alignas" | "_Alignof" | "_Atomic" | "_Generic" | "_Noreturn" | "_Static_assert"
            | "_Thread_local"
            // GCC
            | "asm" | "typeof"
            // C++
            | "bool" | "catch" | "class" | "const_cast" | "delete" | "dynamic_cast" | "explicit" | "false"
            | "friend" | "mutable" | "namespace" | "new" | "operator" | "private" | "protected" | "public"
            | "reinterpret_cast" | "static_cast" | "template" | "this" | "throw" | "true" | "try"
            | "typeid" | "typename" | "using" | "virtual" | "wchar_t"
            // C++ alternative operator names
            | "and" | "and_eq" | "bitand" | "bitor" | "compl" | "not" | "not_eq" | "or" | "or_eq" | "xor"
            | "xor_eq"
            // names system headers may define
            | "unix" | "errno" | "mips" | "sparc" | "i386" | "linux"
    )
}

/// The C identifier QEMU makes of a schema name: every character other
/// than an ASCII letter, digit or `_` becomes `_`, and a reserved word or a
/// name starting with a digit gets the prefix `q_`. Two members clash when
/// their C names are equal.
///
/// ```
/// use qapi_gen::model::c_name;
/// assert_eq!(c_name("a-b"), "a_b");
/// assert_eq!(c_name("unix"), "q_unix");
/// assert_eq!(c_name("__org.qemu_x-y"), "__org_qemu_x_y");
/// ```
pub fn c_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    c_name_into(name, &mut out);
    out
}

/// [`c_name`] into `out` (cleared first), to spare an allocation.
pub(crate) fn c_name_into(name: &str, out: &mut String) {
    out.clear();
    out.extend(name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }));
    let digit = out.starts_with(|c: char| c.is_ascii_digit());
    if digit || is_reserved(out) {
        out.insert_str(0, "q_");
    }
}

#[cfg(test)]
mod tests {
    use super::c_name;

    #[test]
    fn mapping() {
        assert_eq!(c_name("one-two"), c_name("one_two"));
        assert_eq!(c_name("a.b"), "a_b");
        assert_eq!(c_name("wchar-t"), "q_wchar_t");
        assert_eq!(c_name("1x"), "q_1x");
        assert_eq!(c_name(""), "");
        assert_eq!(c_name("é"), "_");
    }
}
