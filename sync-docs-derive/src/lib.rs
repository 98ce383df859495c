//! `#[derive(Documented)]`: a config type's keys at run time, for `teamsync config explain`
//! and `teamsync init`.
//!
//! For a struct, each field becomes a key: its serde name (`rename`, the container's
//! `rename_all`), its doc comment, whether it is required or what its default is, and, when
//! the field's type is itself `Documented`, its nested keys (a section or a set of values).
//! For an enum, each variant becomes a value with its serde name and doc comment. The doc
//! comments are the ones rustdoc shows: one text, two readers.
//!
//! The generated code implements `teamsync_core::docs::Documented`; see that module for the
//! shapes. Serde attributes that would make the keys differ from what is listed (`flatten`,
//! a `rename_all` spelling this macro does not know) are refused at compile time rather than
//! documented wrongly.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::quote;
use syn::spanned::Spanned as _;
use syn::{Attribute, Data, DeriveInput, Fields, LitStr, Type, parse_macro_input};

/// Derives `teamsync_core::docs::Documented` from doc comments and serde attributes.
///
/// `#[explain(default = "path")]` on a field names a function whose value is the field's
/// effective default when serde's is `None` and a later stage fills it in (an LDAP page size).
#[proc_macro_derive(Documented, attributes(explain))]
pub fn derive_documented(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

/// What `#[serde(...)]` says about one item, as far as the keys are concerned.
#[derive(Default)]
struct Serde {
    rename: Option<String>,
    rename_all: Option<String>,
    /// `default` (`Some(None)`) or `default = "path"` (`Some(Some(path))`).
    default: Option<Option<syn::ExprPath>>,
    skip: bool,
    /// `tag = "kind"`: an internally tagged enum.
    tag: Option<String>,
}

fn serde_attrs(attrs: &[Attribute]) -> syn::Result<Serde> {
    let mut out = Serde::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            let name = meta
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            match name.as_str() {
                "rename" => out.rename = Some(meta.value()?.parse::<LitStr>()?.value()),
                "rename_all" => out.rename_all = Some(meta.value()?.parse::<LitStr>()?.value()),
                "default" => {
                    if meta.input.peek(syn::Token![=]) {
                        let path: LitStr = meta.value()?.parse()?;
                        out.default = Some(Some(path.parse()?));
                    } else {
                        out.default = Some(None);
                    }
                }
                "tag" => out.tag = Some(meta.value()?.parse::<LitStr>()?.value()),
                "skip" | "skip_deserializing" => out.skip = true,
                "flatten" => {
                    return Err(meta.error(
                        "derive(Documented) does not list flattened keys; document them in place",
                    ));
                }
                _ => {
                    // Any other attribute (`deny_unknown_fields`, `untagged`,
                    // `deserialize_with = "..."`, `skip_serializing_if = "..."`) does not change
                    // the keys: consume its value, if any.
                    if meta.input.peek(syn::Token![=]) {
                        let _: syn::Expr = meta.value()?.parse()?;
                    } else if meta.input.peek(syn::token::Paren) {
                        let _: proc_macro2::Group = meta.input.parse()?;
                    }
                }
            }
            Ok(())
        })?;
    }
    Ok(out)
}

/// `#[explain(default = "path")]`.
fn explain_default(attrs: &[Attribute]) -> syn::Result<Option<syn::ExprPath>> {
    let mut out = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("explain")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("default") {
                let path: LitStr = meta.value()?.parse()?;
                out = Some(path.parse()?);
                Ok(())
            } else {
                Err(meta.error("expected `default = \"path\"`"))
            }
        })?;
    }
    Ok(out)
}

/// The doc comment, one leading space of each line removed, lines joined with `\n`.
fn doc_text(attrs: &[Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("doc")) {
        if let syn::Meta::NameValue(nv) = &attr.meta
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
        {
            let line = s.value();
            lines.push(line.strip_prefix(' ').unwrap_or(&line).to_owned());
        }
    }
    lines.join("\n").trim().to_owned()
}

/// Applies serde's `rename_all` to a Rust name (the spellings the config uses).
fn rename(name: &str, rule: Option<&str>, span: proc_macro2::Span) -> syn::Result<String> {
    let words = || {
        // A field is snake_case already; a variant is CamelCase: split before capitals.
        let mut words: Vec<String> = Vec::new();
        for part in name.split('_').filter(|p| !p.is_empty()) {
            let mut word = String::new();
            for c in part.chars() {
                if c.is_uppercase() && !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                word.push(c);
            }
            words.push(word);
        }
        words
    };
    let lower = || words().iter().map(|w| w.to_lowercase()).collect::<Vec<_>>();
    Ok(match rule {
        None => name.to_owned(),
        Some("snake_case") => lower().join("_"),
        Some("kebab-case") => lower().join("-"),
        Some("lowercase") => name.to_lowercase(),
        Some("UPPERCASE") => name.to_uppercase(),
        Some("SCREAMING_SNAKE_CASE") => lower().join("_").to_uppercase(),
        Some(other) => {
            return Err(syn::Error::new(
                span,
                format!("derive(Documented) does not know rename_all = {other:?}"),
            ));
        }
    })
}

/// `T` out of `Option<T>`, `Vec<T>` and `Box<T>`: the type whose keys or values nest.
fn inner_type(ty: &Type) -> &Type {
    if let Type::Path(path) = ty
        && let Some(last) = path.path.segments.last()
        && matches!(last.ident.to_string().as_str(), "Option" | "Vec" | "Box")
        && let syn::PathArguments::AngleBracketed(args) = &last.arguments
        && let Some(syn::GenericArgument::Type(inner)) = args.args.first()
    {
        return inner_type(inner);
    }
    ty
}

fn is_option(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Option"))
}

/// One `FieldDoc` for each named field of a struct (or of a struct variant).
fn field_docs(
    fields: &syn::FieldsNamed,
    rename_all: Option<&str>,
    container_default: bool,
) -> syn::Result<Vec<Tokens>> {
    let docs = quote!(::teamsync_core::docs);
    let mut out = Vec::new();
    for field in &fields.named {
        let serde = serde_attrs(&field.attrs)?;
        if serde.skip {
            continue;
        }
        let Some(ident) = &field.ident else { continue };
        let rust_name = ident.to_string();
        let rust_name = rust_name.strip_prefix("r#").unwrap_or(&rust_name);
        let key = match serde.rename {
            Some(name) => name,
            None => rename(rust_name, rename_all, ident.span())?,
        };
        let doc = doc_text(&field.attrs);
        let ty = &field.ty;
        let inner = inner_type(ty);
        let effective = explain_default(&field.attrs)?;
        let default = match &serde.default {
            _ if effective.is_some() => {
                let path = effective.as_ref();
                quote!((&#docs::__private::ValueProbe(&#path())).default_doc())
            }
            Some(Some(path)) => quote!((&#docs::__private::ValueProbe(&#path())).default_doc()),
            // A missing `Option` is `None`, with or without `default`.
            _ if is_option(ty) && !(container_default && serde.default.is_none()) => {
                quote!(#docs::DefaultDoc::NotSet)
            }
            Some(None) => quote!((&#docs::__private::Probe::<#ty>::new()).type_default_doc()),
            None if container_default => quote!(
                (&#docs::__private::ValueProbe(
                    &<Self as ::core::default::Default>::default().#ident
                ))
                .default_doc()
            ),
            None => quote!(#docs::DefaultDoc::Required),
        };
        out.push(quote! {
            #docs::FieldDoc::__new(
                #key,
                #doc,
                #default,
                (&#docs::__private::Probe::<#inner>::new()).nested_doc(),
            )
        });
    }
    Ok(out)
}

fn expand(input: &DeriveInput) -> syn::Result<Tokens> {
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new(
            input.generics.span(),
            "derive(Documented) takes types without generics",
        ));
    }
    let docs = quote!(::teamsync_core::docs);
    let name = &input.ident;
    let container = serde_attrs(&input.attrs)?;
    let type_doc = doc_text(&input.attrs);
    let tag = match &container.tag {
        Some(tag) => quote!(::core::option::Option::Some(#tag)),
        None => quote!(::core::option::Option::None),
    };
    let (shape, fields) = match &input.data {
        Data::Struct(data) => {
            let Fields::Named(named) = &data.fields else {
                return Err(syn::Error::new(
                    input.span(),
                    "derive(Documented) takes structs with named fields",
                ));
            };
            let fields = field_docs(
                named,
                container.rename_all.as_deref(),
                container.default.is_some(),
            )?;
            (quote!(#docs::Shape::Keys), fields)
        }
        Data::Enum(data) => {
            let mut fields = Vec::new();
            for variant in &data.variants {
                let serde = serde_attrs(&variant.attrs)?;
                if serde.skip {
                    continue;
                }
                let key = match serde.rename {
                    Some(name) => name,
                    None => rename(
                        &variant.ident.to_string(),
                        container.rename_all.as_deref(),
                        variant.ident.span(),
                    )?,
                };
                let doc = doc_text(&variant.attrs);
                let nested = match &variant.fields {
                    Fields::Named(named) => {
                        let inner = field_docs(named, serde.rename_all.as_deref(), false)?;
                        quote! {{
                            fn variant_keys() -> #docs::TypeDoc {
                                #[allow(unused_imports)]
                                use #docs::__private::{NestedDoc as _, NoNestedDoc as _, ValueDefault as _, NoValueDefault as _, TypeDefault as _, NoTypeDefault as _};
                                #docs::TypeDoc::__new("", #docs::Shape::Keys, ::core::option::Option::None, ::std::vec![#(#inner),*])
                            }
                            ::core::option::Option::Some(variant_keys as fn() -> #docs::TypeDoc)
                        }}
                    }
                    // A newtype variant (`Ldap(LdapSection)` under `tag = "kind"`): the
                    // inner type's keys.
                    Fields::Unnamed(unnamed) if unnamed.unnamed.len() == 1 => {
                        let ty = inner_type(&unnamed.unnamed[0].ty);
                        quote!((&#docs::__private::Probe::<#ty>::new()).nested_doc())
                    }
                    _ => quote!(::core::option::Option::None),
                };
                fields.push(quote! {
                    #docs::FieldDoc::__new(#key, #doc, #docs::DefaultDoc::NotApplicable, #nested)
                });
            }
            (quote!(#docs::Shape::Values), fields)
        }
        Data::Union(_) => {
            return Err(syn::Error::new(
                input.span(),
                "derive(Documented) takes structs and enums",
            ));
        }
    };
    Ok(quote! {
        impl #docs::Documented for #name {
            fn type_doc() -> #docs::TypeDoc {
                #[allow(unused_imports)]
                use #docs::__private::{NestedDoc as _, NoNestedDoc as _, ValueDefault as _, NoValueDefault as _, TypeDefault as _, NoTypeDefault as _};
                #docs::TypeDoc::__new(#type_doc, #shape, #tag, ::std::vec![#(#fields),*])
            }
        }
    })
}
