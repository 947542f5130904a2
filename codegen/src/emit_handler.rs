//! The receiving side of a provider module: its auth and delivery rules as static data for
//! the runtime's verifier, the `Handler` trait with one method per event, and the glue that
//! runs verify -> parse -> dispatch (plus an axum router behind the `axum` feature).

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use crate::emit_core::{auth_scheme, delivery_rules};
use crate::ir::Provider;
use crate::model::{AuthScheme, KeySource};

/// Everything a provider module needs to receive deliveries.
pub fn receiving(p: &Provider) -> TokenStream {
    let rules = rules(p);
    let unknown = unknown_fields(p);
    let handler = handler_trait(p);
    let glue = glue(p);
    quote! { #rules #unknown #handler #glue }
}

fn rules(p: &Provider) -> TokenStream {
    let schemes = p.auth.iter().map(auth_scheme);
    let delivery = delivery_rules(&p.delivery.rules());
    let name = &p.name;
    let title = &p.title;
    let follow_up = if p.events.iter().any(|e| e.follow_up.is_some()) {
        quote! {
            fn follow_up(
                &self,
                event: &Event,
                ctx: &::hookspec_runtime::FollowUpContext,
            ) -> ::std::option::Option<::hookspec_runtime::FollowUp> {
                event.follow_up(ctx)
            }
        }
    } else {
        quote! {}
    };
    let key_endpoint = p
        .auth
        .iter()
        .position(
            |a| matches!(a, AuthScheme::Jwt(j) if matches!(j.key_source, KeySource::Endpoint(_))),
        )
        .map(|i| {
            let i = Literal::usize_unsuffixed(i);
            let doc = crate::emit_rust::doc_attr(&format!(
                "Where {title}'s JWT verification keys are fetched from: give it to \
                 `runtime::verify::HttpKeySource::new` with the environment's base URL \
                 (or a local stand-in) and your API credentials."
            ));
            quote! {
                #doc
                pub const KEY_ENDPOINT: &::hookspec_runtime::core::KeyEndpoint = match &AUTH[#i] {
                    ::hookspec_runtime::core::AuthScheme::Jwt(::hookspec_runtime::core::JwtAuth {
                        key_source: ::hookspec_runtime::core::KeySource::Endpoint(endpoint),
                        ..
                    }) => endpoint,
                    _ => panic!("the spec's JWT scheme fetches keys from an endpoint"),
                };
            }
        })
        .unwrap_or_default();
    let auth_doc = format!(
        "How {title} authenticates a delivery, from `spec/{name}.yaml`; every scheme applies."
    );
    let auth_doc = crate::emit_rust::doc_attr(&auth_doc);
    let delivery_doc = format!("{title}'s delivery rules a receiver acts on.");
    let delivery_doc = crate::emit_rust::doc_attr(&delivery_doc);
    let marker_doc = format!(
        "{title} as a [`::hookspec_runtime::Provider`]: the generic receiving code's handle on \
         this module's auth rules, parser and idempotency keys."
    );
    let marker_doc = crate::emit_rust::doc_attr(&marker_doc);
    // Ids the provider sends in headers are read along the spec's paths by the runtime's
    // one rule; providers without any read the event alone.
    let in_headers = |paths: &[String]| paths.iter().any(|p| crate::model::header_ref(p).is_some());
    let key_paths: Vec<String> = p.delivery_id_path.iter().cloned().collect();
    let (key_headers, key) = if in_headers(&key_paths) {
        (
            format_ident!("headers"),
            quote! {
                ::hookspec_runtime::id_from(headers, &[#(#key_paths),*], |_| event.delivery_id())
                    .unwrap_or_else(|| event.idempotency_key(body))
            },
        )
    } else {
        (
            format_ident!("_headers"),
            quote!(event.idempotency_key(body)),
        )
    };
    let subject_paths = &p.subject_paths;
    let (subject_headers, subject) = if in_headers(subject_paths) {
        (
            format_ident!("headers"),
            // `subject_id` already tries every body path: ask it at the first one only.
            quote! {
                let mut asked = false;
                ::hookspec_runtime::id_from(headers, &[#(#subject_paths),*], |_| {
                    (!::std::mem::replace(&mut asked, true)).then(|| event.subject_id()).flatten()
                })
            },
        )
    } else {
        (format_ident!("_headers"), quote!(event.subject_id()))
    };
    // Handshakes: the events a receiver answers itself, and the answer each gets.
    let responses: Vec<TokenStream> = p
        .events
        .iter()
        .filter_map(|e| {
            let (name, rule) = (&e.name, crate::emit_core::respond(e.respond.as_ref()?));
            Some(quote! { (::std::borrow::Cow::Borrowed(#name), #rule) })
        })
        .collect();
    let (responses, respond) = if responses.is_empty() {
        (TokenStream::new(), TokenStream::new())
    } else {
        let doc = crate::emit_rust::doc_attr(&format!(
            "The {title} events a receiver answers itself (endpoint-verification handshakes), \
             with the answer each gets; their handlers are not called."
        ));
        (
            quote! {
                #doc
                pub const RESPONSES: &[(::hookspec_runtime::core::Text, ::hookspec_runtime::core::Respond)] = &[#(#responses),*];
            },
            quote! {
                fn respond(&self, event: &Event) -> ::std::option::Option<&'static ::hookspec_runtime::core::Respond> {
                    ::hookspec_runtime::core::respond_for(RESPONSES, event.name())
                }
            },
        )
    };
    quote! {
        #responses
        #auth_doc
        pub const AUTH: &[::hookspec_runtime::core::AuthScheme] = &[#(#schemes),*];
        #key_endpoint
        #delivery_doc
        pub const DELIVERY: ::hookspec_runtime::core::DeliveryRules = #delivery;
        #marker_doc
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct Webhooks;
        impl ::hookspec_runtime::Provider for Webhooks {
            type Event = Event;
            fn name(&self) -> &'static str {
                #name
            }
            fn auth(&self) -> &'static [::hookspec_runtime::core::AuthScheme] {
                AUTH
            }
            fn delivery(&self) -> &'static ::hookspec_runtime::core::DeliveryRules {
                &DELIVERY
            }
            fn parse(&self, headers: &::hookspec_runtime::http::HeaderMap, body: &[u8]) -> ::std::result::Result<Event, ::hookspec_runtime::ParseError> {
                Event::parse_delivery(headers, body)
            }
            fn event_name(&self, event: &Event) -> &'static str {
                event.name()
            }
            fn idempotency_key(&self, event: &Event, #key_headers: &::hookspec_runtime::http::HeaderMap, body: &[u8]) -> ::std::string::String {
                #key
            }
            fn subject_id(&self, event: &Event, #subject_headers: &::hookspec_runtime::http::HeaderMap) -> ::std::option::Option<::std::string::String> {
                #subject
            }
            #respond
            fn unknown_fields(&self, event: &Event) -> ::std::vec::Vec<::std::string::String> {
                event.unknown_fields()
            }
            #follow_up
        }
    }
}

/// `Event::unknown_fields`: drift detection over whichever event was parsed.
fn unknown_fields(p: &Provider) -> TokenStream {
    let arms = p.events.iter().map(|e| {
        let variant = format_ident!("{}", e.name);
        quote! { Event::#variant(e) => ::hookspec_runtime::UnknownFields::unknown_fields_into(e, "$", &mut out), }
    });
    quote! {
        impl Event {
            /// JSON paths (`$.data.new_field`) of the fields this event carries that the spec
            /// does not know: what to log when a provider starts sending something new. They
            /// are kept in the structs' `extra` maps either way. Empty for unknown events.
            pub fn unknown_fields(&self) -> ::std::vec::Vec<::std::string::String> {
                let mut out = ::std::vec::Vec::new();
                match self {
                    #(#arms)*
                    Event::Unknown(_) => {}
                }
                out
            }
        }
    }
}

fn handler_trait(p: &Provider) -> TokenStream {
    let title = &p.title;
    let methods = p.events.iter().map(|e| {
        let method = format_ident!("on_{}", e.method);
        let ty = format_ident!("{}", e.body_type);
        let doc = format!(
            "A `{}` delivery. The default acknowledges it and does nothing.",
            e.name
        );
        let doc = crate::emit_rust::doc_attr(&doc);
        let deprecated = if e.deprecated {
            quote! { #[doc = ""] #[doc = " The provider marks this event deprecated."] }
        } else {
            quote! {}
        };
        quote! {
            #doc
            #deprecated
            fn #method(
                &self,
                event: #ty,
                delivery: &::hookspec_runtime::Delivery,
            ) -> impl ::std::future::Future<Output = ::hookspec_runtime::Handled> + Send {
                let _ = (event, delivery);
                async { Ok(()) }
            }
        }
    });
    let arms = p.events.iter().map(|e| {
        let variant = format_ident!("{}", e.name);
        let method = format_ident!("on_{}", e.method);
        quote! { Event::#variant(e) => self.#method(e, delivery).await, }
    });
    let trait_doc = format!(
        "Business logic for {title} deliveries: one method per event, each acknowledging by \
         default, so a receiver overrides only the events it cares about.\n\n\
         Verification, parsing, idempotency and the HTTP status are handled around it by \
         [`receive`] (and [`router`] with the `axum` feature). Return an error to make the \
         provider retry (the delivery is answered 500)."
    );
    let trait_doc = crate::emit_rust::doc_attr(&trait_doc);
    quote! {
        #trait_doc
        pub trait Handler: Send + Sync + 'static {
            /// Called with every verified, parsed delivery before it is handled; answer
            /// [`::hookspec_runtime::Claim::Duplicate`] to acknowledge a delivery already seen
            /// without handling it again. The default treats every delivery as new.
            fn claim(
                &self,
                delivery: &::hookspec_runtime::Delivery,
            ) -> impl ::std::future::Future<Output = ::hookspec_runtime::Claim> + Send {
                let _ = delivery;
                async { ::hookspec_runtime::Claim::New }
            }
            /// Called when handling a claimed delivery failed or timed out, so the provider's
            /// retry is not taken for a duplicate. The default does nothing.
            fn release(
                &self,
                delivery: &::hookspec_runtime::Delivery,
            ) -> impl ::std::future::Future<Output = ()> + Send {
                let _ = delivery;
                async {}
            }
            /// Routes an event to its method. Override it to see every event in one place
            /// (logging, a queue); the per-event methods are then not called unless this
            /// calls them.
            fn handle(
                &self,
                event: Event,
                delivery: &::hookspec_runtime::Delivery,
            ) -> impl ::std::future::Future<Output = ::hookspec_runtime::Handled> + Send {
                async move {
                    match event {
                        #(#arms)*
                        Event::Unknown(e) => self.on_unknown(e, delivery).await,
                    }
                }
            }
            /// An event the spec does not know. The default acknowledges it: providers add
            /// events without notice, and refusing one only triggers retries.
            fn on_unknown(
                &self,
                event: ::hookspec_runtime::UnknownEvent,
                delivery: &::hookspec_runtime::Delivery,
            ) -> impl ::std::future::Future<Output = ::hookspec_runtime::Handled> + Send {
                let _ = (event, delivery);
                async { Ok(()) }
            }
            #(#methods)*
        }
    }
}

fn glue(p: &Provider) -> TokenStream {
    let title = &p.title;
    let config_doc = format!(
        "A receiving configuration for {title}: the verifier built from [`AUTH`] and \
         [`DELIVERY`] with your credentials, and the default body limit and handler timeout."
    );
    let config_doc = crate::emit_rust::doc_attr(&config_doc);
    let receive_doc = format!(
        "Verifies, parses and dispatches one {title} delivery to `handler`, and says which \
         HTTP status to answer with. `now` is the clock verification uses."
    );
    let receive_doc = crate::emit_rust::doc_attr(&receive_doc);
    let router_doc = format!(
        "An axum router receiving {title} deliveries at `/` (nest it under your path): body \
         limit, handler timeout below the provider's and a `tracing` span per delivery."
    );
    let router_doc = crate::emit_rust::doc_attr(&router_doc);
    quote! {
        #config_doc
        pub fn config(
            credentials: ::hookspec_runtime::verify::Credentials,
        ) -> ::std::result::Result<::hookspec_runtime::Config, ::hookspec_runtime::verify::ConfigError> {
            ::hookspec_runtime::Config::new(&Webhooks, credentials)
        }
        #receive_doc
        pub async fn receive<H: Handler>(
            handler: &H,
            config: &::hookspec_runtime::Config,
            request: &::hookspec_runtime::verify::Request<'_>,
            now: ::std::time::SystemTime,
        ) -> ::hookspec_runtime::Receipt {
            ::hookspec_runtime::receive(&Webhooks, ::hookspec_runtime::Handling::from_ref(handler), config, request, now).await
        }
        impl<H: Handler> ::hookspec_runtime::Receiver<Webhooks> for ::hookspec_runtime::Handling<H> {
            fn claim(
                &self,
                delivery: &::hookspec_runtime::Delivery,
            ) -> impl ::std::future::Future<Output = ::hookspec_runtime::Claim> + Send {
                Handler::claim(self.get(), delivery)
            }
            fn release(
                &self,
                delivery: &::hookspec_runtime::Delivery,
            ) -> impl ::std::future::Future<Output = ()> + Send {
                Handler::release(self.get(), delivery)
            }
            fn handle(
                &self,
                _provider: &Webhooks,
                event: Event,
                delivery: &::hookspec_runtime::Delivery,
            ) -> impl ::std::future::Future<Output = ::hookspec_runtime::Handled> + Send {
                Handler::handle(self.get(), event, delivery)
            }
        }
        ::hookspec_runtime::provider_router! {
            #router_doc
        }
    }
}
