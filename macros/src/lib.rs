//! `hookspec::provider!`: the provider module of one spec, generated when the calling
//! crate compiles. Use it through the `hookspec` crate, which re-exports it.

use proc_macro::TokenStream;
use proc_macro2::Span;
use quote::{quote, quote_spanned};
use syn::LitStr;

/// Expands to `pub mod <provider> { ... }` for the spec at the given path (relative to the
/// calling crate's `CARGO_MANIFEST_DIR`): the same module `cargo xtask generate` writes
/// for a bundled spec, naming the runtime `::hookspec::runtime`.
///
/// ```ignore
/// hookspec::provider!("spec/acme.yaml");
/// ```
///
/// A spec that does not load is a compile error carrying its diagnostics
/// (`file:line:column: error: ...`). The spec is read with `include_bytes!`, so editing it
/// rebuilds the crate.
///
/// `HOOKSPEC_MANIFEST_DIR`, when set, replaces `CARGO_MANIFEST_DIR` as the base of the
/// path: for compile tests (trybuild) that build in a directory of their own.
#[proc_macro]
pub fn provider(input: TokenStream) -> TokenStream {
    let path = match syn::parse::<LitStr>(input) {
        Ok(path) => path,
        Err(e) => return e.to_compile_error().into(),
    };
    expand(&path).unwrap_or_else(|message| {
        let message = format!("hookspec::provider!: {message}");
        let span = path.span();
        quote_spanned!(span=> ::core::compile_error!(#message);).into()
    })
}

fn expand(path: &LitStr) -> Result<TokenStream, String> {
    let shown = path.value();
    // trybuild compiles a test crate of its own, whose manifest directory is not the one
    // the spec paths are relative to; its driver names the right one in the override.
    let manifest = std::env::var_os("HOOKSPEC_MANIFEST_DIR")
        .or_else(|| std::env::var_os("CARGO_MANIFEST_DIR"))
        .ok_or("CARGO_MANIFEST_DIR is not set: compile with cargo")?;
    let (module, full) = hookspec_codegen::module::from_file(
        std::path::Path::new(&manifest),
        std::path::Path::new(&shown),
        hookspec_codegen::build::HOOKSPEC_RUNTIME,
    )?;
    let full = full
        .to_str()
        .ok_or_else(|| format!("{shown}: the spec's path is not UTF-8"))?;
    let tokens = module.tokens;
    // The module's own items come first; the file is read again by rustc only so Cargo
    // tracks it (`include_bytes!` makes it a dependency of the crate).
    let track = quote_spanned!(Span::call_site()=> const _: &[u8] = include_bytes!(#full););
    Ok(quote! {
        #tokens
        #track
    }
    .into())
}
