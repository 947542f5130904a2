//! Follow-up emitter: a provider's API as static data (`API`, one `ENDPOINT_*` constant per
//! endpoint, one `FOLLOW_UP_*` per event that has a follow-up), `follow_up(&ctx)` on those
//! events' structs and on `Event`, and the `cargo xtask list-endpoints` lines. Reads only
//! the IR; the request itself is assembled by `hookspec::runtime::FollowUp::build`.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::emit_rust::{ident, opt_str};
use crate::ir::{ApiDef, EndpointDef, FollowUpDef, Provider};
use crate::model::{ApiAuth, Binding, Kind, ParamLocation};

/// The follow-up items of one provider module (nothing for a provider without endpoints).
pub fn items(p: &Provider) -> TokenStream {
    let Some(api) = p.api.as_ref().filter(|a| !a.endpoints.is_empty()) else {
        return TokenStream::new();
    };
    let endpoints = api.endpoints.iter().map(endpoint_const);
    let endpoint_idents: Vec<Ident> = api.endpoints.iter().map(|e| ident(&e.constant)).collect();
    let envs = api.base_urls.iter().map(|(k, v)| quote!((#k, #v)));
    let auth = auth_tokens(api);
    let error = match &api.error {
        Some((status, example)) => quote!(::std::option::Option::Some((#status, #example))),
        None => quote!(::std::option::Option::None),
    };
    let api_doc = format!(
        " {}'s API as the webhook flow uses it: base URLs, credentials and every endpoint.",
        p.title
    );
    let with_follow_up: Vec<_> = p
        .events
        .iter()
        .filter_map(|e| e.follow_up.as_ref().map(|f| (e, f)))
        .filter(|(_, f)| api.endpoints.iter().any(|x| x.name == f.endpoint))
        .collect();
    let specs = with_follow_up
        .iter()
        .map(|(e, f)| follow_up_const(api, &e.name, f));
    let impls = with_follow_up.iter().map(|(e, f)| {
        let body = ident(&e.body_type);
        let spec = ident(&spec_const(&e.name));
        let doc = method_doc(api, f);
        quote! {
            impl #body {
                #doc
                pub fn follow_up(&self, ctx: &::hookspec_runtime::FollowUpContext) -> ::hookspec_runtime::FollowUp {
                    // Paths are read from the event as the provider sent it.
                    let body = ::hookspec_runtime::serde_json::to_value(self).unwrap_or(::hookspec_runtime::serde_json::Value::Null);
                    ::hookspec_runtime::FollowUp::build(&API, &#spec, &body, ctx)
                }
            }
        }
    });
    let arms = with_follow_up.iter().map(|(e, _)| {
        let variant = ident(&e.name);
        quote!(Self::#variant(e) => ::std::option::Option::Some(e.follow_up(ctx)),)
    });
    let fallthrough =
        (with_follow_up.len() < p.events.len()).then(|| quote!(_ => ::std::option::Option::None,));
    let unknown = fallthrough
        .is_none()
        .then(|| quote!(Self::Unknown(_) => ::std::option::Option::None,));
    quote! {
        #[doc = #api_doc]
        pub const API: ::hookspec_runtime::Api = ::hookspec_runtime::Api {
            base_urls: &[#(#envs),*],
            auth: #auth,
            error: #error,
            endpoints: &[#(#endpoint_idents),*],
        };

        #(#endpoints)*
        #(#specs)*
        #(#impls)*

        impl Event {
            /// The call to make back to the provider after this event, when the spec names
            /// one; `None` for events without a follow-up and for unknown events.
            pub fn follow_up(&self, ctx: &::hookspec_runtime::FollowUpContext) -> ::std::option::Option<::hookspec_runtime::FollowUp> {
                match self {
                    #(#arms)*
                    #unknown
                    #fallthrough
                }
            }
        }
    }
}

fn spec_const(event: &str) -> String {
    format!("FOLLOW_UP_{}", crate::ir::snake(event).to_ascii_uppercase())
}

fn auth_tokens(api: &ApiDef) -> TokenStream {
    match &api.auth {
        None => quote!(::hookspec_runtime::ApiAuth::None),
        Some(ApiAuth::BodyFields(f)) => quote!(::hookspec_runtime::ApiAuth::BodyFields(&[#(#f),*])),
        Some(ApiAuth::Basic { user, password }) => {
            quote!(::hookspec_runtime::ApiAuth::Basic { user: #user, password: #password })
        }
        Some(ApiAuth::Headers(h)) => {
            let pairs = h.iter().map(|(k, v)| quote!((#k, #v)));
            quote!(::hookspec_runtime::ApiAuth::Headers(&[#(#pairs),*]))
        }
    }
}

fn endpoint_const(e: &EndpointDef) -> TokenStream {
    let name_ident = ident(&e.constant);
    let (name, method, path, status, example) = (
        &e.name,
        e.method,
        &e.path,
        e.response_status,
        &e.response_example,
    );
    let authenticated = e.authenticated;
    let params = e.params.iter().map(|p| {
        let n = &p.name;
        let location = match p.location {
            ParamLocation::Path => quote!(Path),
            ParamLocation::Query => quote!(Query),
            ParamLocation::Body => quote!(Body),
        };
        let kind = match p.kind {
            Kind::String | Kind::Enum => quote!(String),
            Kind::Integer | Kind::Decimal => quote!(Number),
            Kind::Boolean => quote!(Boolean),
            Kind::Array | Kind::Object | Kind::Map | Kind::Any => quote!(Json),
        };
        let required = p.required;
        quote! {
            ::hookspec_runtime::ParamSpec {
                name: #n,
                location: ::hookspec_runtime::ParamIn::#location,
                kind: ::hookspec_runtime::ParamKind::#kind,
                required: #required,
            }
        }
    });
    let mut doc = format!(" `{method} {path}`: {}", e.doc.trim());
    if let Some(a) = &e.assumed {
        doc.push_str(&format!("\n\n Assumed: {}", a.trim()));
    }
    let docs: Vec<String> = doc.lines().map(str::to_owned).collect();
    quote! {
        #(#[doc = #docs])*
        pub const #name_ident: ::hookspec_runtime::Endpoint = ::hookspec_runtime::Endpoint {
            name: #name,
            method: #method,
            path: #path,
            params: &[#(#params),*],
            authenticated: #authenticated,
            response_status: #status,
            example_response: #example,
        };
    }
}

fn follow_up_const(api: &ApiDef, event: &str, f: &FollowUpDef) -> TokenStream {
    let name = ident(&spec_const(event));
    let Some(endpoint) = api.endpoint(&f.endpoint).map(|e| ident(&e.constant)) else {
        return TokenStream::new();
    };
    let bindings = f.bindings.iter().map(|(param, b)| {
        let b = match b {
            Binding::Payload(path) => quote!(::hookspec_runtime::Binding::Payload(#path)),
            Binding::Literal(v) => {
                let text = v.to_string();
                quote!(::hookspec_runtime::Binding::Literal(#text))
            }
            Binding::Caller(c) => {
                let n = &c.name;
                let key = opt_str(c.key.as_deref());
                quote!(::hookspec_runtime::Binding::Caller { name: #n, key: #key })
            }
            Binding::SincePrevious { from, to } => {
                quote!(::hookspec_runtime::Binding::SincePrevious { from: #from, to: #to })
            }
        };
        quote!((#param, #b))
    });
    let doc = format!(" The follow-up of [`{event}`]: `{}`.", f.endpoint);
    quote! {
        #[doc = #doc]
        pub const #name: ::hookspec_runtime::FollowUpSpec = ::hookspec_runtime::FollowUpSpec {
            endpoint: &#endpoint,
            bindings: &[#(#bindings),*],
        };
    }
}

fn method_doc(api: &ApiDef, f: &FollowUpDef) -> TokenStream {
    let ep = api.endpoint(&f.endpoint);
    let mut lines = vec![match ep {
        Some(e) => format!(
            " The call to make next: `{} {}` ({}).",
            e.method, e.path, e.name
        ),
        None => format!(" The call to make next: `{}`.", f.endpoint),
    }];
    for (param, b) in &f.bindings {
        lines.push(format!(" - `{param}`: {}", binding_text(b)));
    }
    if let Some(note) = &f.note {
        lines.push(String::new());
        lines.extend(note.trim().lines().map(|l| format!(" {l}")));
    }
    quote!(#(#[doc = #lines])*)
}

/// How a binding reads in docs.
pub fn binding_text(b: &Binding) -> String {
    match b {
        Binding::Payload(path) => format!("the payload's `{path}`"),
        Binding::Literal(v) => format!("`{v}`"),
        Binding::Caller(c) => match &c.key {
            Some(k) => format!("your `{}` for the payload's `{k}`", c.name),
            None => format!("your `{}`", c.name),
        },
        Binding::SincePrevious { from, to } => {
            format!("`<{from}>,<{to}>`, left out on the first notification")
        }
    }
}

/// `provider<TAB>Event<TAB>METHOD<TAB>/path` per follow-up, sorted.
pub fn list_endpoints<'a>(providers: impl IntoIterator<Item = &'a Provider>) -> Vec<String> {
    let mut lines: Vec<String> = providers
        .into_iter()
        .flat_map(|p| {
            p.events.iter().filter_map(move |e| {
                let f = e.follow_up.as_ref()?;
                let ep = p.api.as_ref()?.endpoint(&f.endpoint)?;
                Some(format!(
                    "{}\t{}\t{}\t{}",
                    p.name, e.name, ep.method, ep.path
                ))
            })
        })
        .collect();
    lines.sort();
    lines
}
