//! `hookspec-core` values written as constant expressions, so a generated module states
//! its provider's auth and delivery rules directly (`plaid::AUTH`, `plaid::DELIVERY`).
//! Each literal names the type through `::hookspec_runtime::core`, so the module compiles
//! wherever the runtime does.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use hookspec_core::{
    AuthScheme, AuthorizationKind, DeliveryRules, DigestAlgorithm, Duration, IpRange, JwtAlgorithm,
    KeySource, Pairs, SecretFormat, SignatureAuth, SignatureEncoding, Success, ToleranceWindow,
};

/// `Cow::Borrowed("text")`.
fn text(s: &str) -> TokenStream {
    quote! { ::std::borrow::Cow::Borrowed(#s) }
}

fn opt_text(s: Option<&str>) -> TokenStream {
    match s {
        Some(s) => {
            let t = text(s);
            quote! { ::std::option::Option::Some(#t) }
        }
        None => quote! { ::std::option::Option::None },
    }
}

/// `Cow::Borrowed(&[items])`.
fn list(items: impl IntoIterator<Item = TokenStream>) -> TokenStream {
    let items = items.into_iter();
    quote! { ::std::borrow::Cow::Borrowed(&[#(#items),*]) }
}

fn duration(d: Duration) -> TokenStream {
    let d = d.get();
    if d.subsec_nanos() == 0 {
        let secs = Literal::u64_unsuffixed(d.as_secs());
        quote! { ::hookspec_runtime::core::Duration::from_secs(#secs) }
    } else if d.subsec_nanos().is_multiple_of(1_000_000) {
        let ms = Literal::u64_unsuffixed(d.as_millis() as u64);
        quote! { ::hookspec_runtime::core::Duration::from_millis(#ms) }
    } else {
        let secs = Literal::u64_unsuffixed(d.as_secs());
        let nanos = Literal::u32_unsuffixed(d.subsec_nanos());
        quote! { ::hookspec_runtime::core::Duration(::std::time::Duration::new(#secs, #nanos)) }
    }
}

fn pairs(p: &Pairs) -> TokenStream {
    let items = p.iter().map(|(k, v)| {
        let (k, v) = (text(k), text(v));
        quote! { (#k, #v) }
    });
    let l = list(items);
    quote! { ::hookspec_runtime::core::Pairs(#l) }
}

fn encoding(e: SignatureEncoding) -> TokenStream {
    let v = match e {
        SignatureEncoding::HexUpper => quote!(HexUpper),
        SignatureEncoding::HexLower => quote!(HexLower),
        SignatureEncoding::Base64 => quote!(Base64),
        SignatureEncoding::Base64url => quote!(Base64url),
    };
    quote! { ::hookspec_runtime::core::SignatureEncoding::#v }
}

fn ip_range(range: &IpRange) -> TokenStream {
    let addr = ip(&range.addr);
    let prefix = Literal::u8_unsuffixed(range.prefix);
    quote! { ::hookspec_runtime::core::IpRange { addr: #addr, prefix: #prefix } }
}

fn ip(addr: &std::net::IpAddr) -> TokenStream {
    match addr {
        std::net::IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets().map(Literal::u8_unsuffixed);
            quote! { ::std::net::IpAddr::V4(::std::net::Ipv4Addr::new(#a, #b, #c, #d)) }
        }
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments().map(Literal::u16_unsuffixed);
            quote! { ::std::net::IpAddr::V6(::std::net::Ipv6Addr::new(#(#s),*)) }
        }
    }
}

/// A handshake answer rule ([`hookspec_core::Respond`]) literal.
pub fn respond(r: &hookspec_core::Respond) -> TokenStream {
    let status = match r.status {
        Some(s) => {
            let s = Literal::u16_unsuffixed(s);
            quote! { ::std::option::Option::Some(#s) }
        }
        None => quote! { ::std::option::Option::None },
    };
    let (content_type, body, json) = (text(&r.content_type), text(&r.body), r.json);
    quote! {
        ::hookspec_runtime::core::Respond {
            status: #status,
            content_type: #content_type,
            body: #body,
            json: #json,
        }
    }
}

/// A [`DeliveryRules`] literal.
pub fn delivery_rules(d: &DeliveryRules) -> TokenStream {
    let content_type = text(&d.content_type);
    let ips = list(d.source_ips.iter().map(ip_range));
    let timeout = duration(d.timeout);
    let refusal = match d.refusal {
        Some(status) => {
            let status = Literal::u16_unsuffixed(status);
            quote!(::core::option::Option::Some(#status))
        }
        None => quote!(::core::option::Option::None),
    };
    let success = match &d.success {
        Success::Any2xx => quote! { ::hookspec_runtime::core::Success::Any2xx },
        Success::Only(codes) => {
            let codes = list(codes.iter().map(|c| {
                let c = Literal::u16_unsuffixed(*c);
                quote!(#c)
            }));
            quote! { ::hookspec_runtime::core::Success::Only(#codes) }
        }
    };
    quote! {
        ::hookspec_runtime::core::DeliveryRules {
            content_type: #content_type,
            source_ips: #ips,
            timeout: #timeout,
            success: #success,
            refusal: #refusal,
        }
    }
}

/// An [`AuthScheme`] literal.
pub fn auth_scheme(a: &AuthScheme) -> TokenStream {
    let core = quote!(::hookspec_runtime::core);
    match a {
        AuthScheme::Authorization(a) => {
            let header = text(&a.header);
            let schemes = list(a.schemes.iter().map(|k| match k {
                AuthorizationKind::Basic => quote!(#core::AuthorizationKind::Basic),
                AuthorizationKind::Bearer => quote!(#core::AuthorizationKind::Bearer),
            }));
            let required = a.required;
            let description = opt_text(a.description.as_deref());
            quote! {
                #core::AuthScheme::Authorization(#core::AuthorizationAuth {
                    header: #header,
                    schemes: #schemes,
                    required: #required,
                    description: #description,
                })
            }
        }
        AuthScheme::Signature(h) => {
            // The variant's own name: a new algorithm needs nothing here.
            let algorithm = proc_macro2::Ident::new(
                &format!("{:?}", h.algorithm),
                proc_macro2::Span::call_site(),
            );
            let layout = layout_fields(h);
            let key = secret_format(&h.key);
            let rotation = match &h.rotation {
                Some(r) => {
                    let max = r.max_active;
                    let overlap = duration(r.overlap);
                    quote! {
                        ::std::option::Option::Some(#core::Rotation { max_active: #max, overlap: #overlap })
                    }
                }
                None => quote! { ::std::option::Option::None },
            };
            let description = opt_text(h.description.as_deref());
            quote! {
                #core::AuthScheme::Signature(#core::SignatureAuth {
                    algorithm: #core::SignatureAlgorithm::#algorithm,
                    #layout
                    key: #key,
                    rotation: #rotation,
                    description: #description,
                })
            }
        }
        AuthScheme::Jwt(j) => {
            let header = text(&j.header);
            let algorithms = list(j.algorithms.iter().map(|a| match a {
                JwtAlgorithm::ES256 => quote!(#core::JwtAlgorithm::ES256),
            }));
            let iat = text(&j.issued_at_claim);
            let max_age = duration(j.max_age);
            let skew = duration(j.future_skew);
            let claim = text(&j.body_hash.claim);
            let enc = encoding(j.body_hash.encoding);
            let digest = match j.body_hash.algorithm {
                DigestAlgorithm::Sha256 => quote!(#core::DigestAlgorithm::Sha256),
            };
            let key_source = match &j.key_source {
                KeySource::Endpoint(k) => {
                    let (method, path, kid, req, resp) = (
                        text(&k.method),
                        text(&k.path),
                        text(&k.kid_header),
                        text(&k.request_key_field),
                        text(&k.response_key_field),
                    );
                    let creds = list(k.credential_fields.iter().map(|c| text(c)));
                    let expired = opt_text(k.expired_field.as_deref());
                    let urls = pairs(&k.base_urls);
                    quote! {
                        #core::KeySource::Endpoint(#core::KeyEndpoint {
                            method: #method,
                            path: #path,
                            kid_header: #kid,
                            request_key_field: #req,
                            credential_fields: #creds,
                            response_key_field: #resp,
                            expired_field: #expired,
                            base_urls: #urls,
                        })
                    }
                }
                KeySource::Jwks(k) => {
                    let kid = text(&k.kid_header);
                    let urls = pairs(&k.urls);
                    quote! {
                        #core::KeySource::Jwks(#core::JwksSource { kid_header: #kid, urls: #urls })
                    }
                }
            };
            let description = opt_text(j.description.as_deref());
            quote! {
                #core::AuthScheme::Jwt(#core::JwtAuth {
                    header: #header,
                    algorithms: #algorithms,
                    issued_at_claim: #iat,
                    max_age: #max_age,
                    future_skew: #skew,
                    body_hash: #core::BodyHash {
                        claim: #claim,
                        algorithm: #digest,
                        encoding: #enc,
                    },
                    key_source: #key_source,
                    description: #description,
                })
            }
        }
        AuthScheme::IdentifyingHeader(i) => {
            let header = text(&i.header);
            let description = text(&i.description);
            quote! {
                #core::AuthScheme::IdentifyingHeader(#core::IdentifyingHeaderAuth {
                    header: #header,
                    description: #description,
                })
            }
        }
    }
}

/// Where a signature literal's signature is and what it covers, each field followed by a
/// comma.
fn layout_fields(l: &SignatureAuth) -> TokenStream {
    let core = quote!(::hookspec_runtime::core);
    let header = text(&l.header);
    let enc = encoding(l.encoding);
    let signed = text(&l.signed);
    let separator = opt_text(l.format.separator.as_deref());
    let label_separator = opt_text(l.format.label_separator.as_deref());
    let scheme = opt_text(l.format.scheme.as_deref());
    let timestamp = match &l.timestamp {
        Some(t) => {
            let th = opt_text(t.header.as_deref());
            let tl = opt_text(t.label.as_deref());
            let tol = duration(t.tolerance);
            let window = match t.window {
                ToleranceWindow::BothWays => quote!(#core::ToleranceWindow::BothWays),
                ToleranceWindow::PastOnly => quote!(#core::ToleranceWindow::PastOnly),
            };
            let unit = variant(&t.unit);
            quote! {
                ::std::option::Option::Some(#core::SignedTimestamp {
                    header: #th, label: #tl, tolerance: #tol, window: #window,
                    unit: #core::TimestampUnit::#unit,
                })
            }
        }
        None => quote! { ::std::option::Option::None },
    };
    let optional = l.optional;
    let jws = match &l.jws {
        Some(j) => {
            let param = opt_text(j.headers_param.as_deref());
            let signs = list(j.signs_headers.iter().map(|h| text(h)));
            let requires = pairs(&j.requires);
            let key_url_param = opt_text(j.key_url_param.as_deref());
            let key_urls = list(j.key_urls.iter().map(|u| text(u)));
            quote! {
                ::std::option::Option::Some(#core::DetachedJws {
                    headers_param: #param,
                    signs_headers: #signs,
                    requires: #requires,
                    key_url_param: #key_url_param,
                    key_urls: #key_urls,
                })
            }
        }
        None => quote! { ::std::option::Option::None },
    };
    quote! {
        header: #header,
        encoding: #enc,
        signed: #signed,
        format: #core::SignatureFormat {
            separator: #separator,
            label_separator: #label_separator,
            scheme: #scheme,
        },
        jws: #jws,
        timestamp: #timestamp,
        optional: #optional,
    }
}

/// A unit enum value's variant, by its `Debug` name (a new variant needs nothing here).
fn variant(value: &impl std::fmt::Debug) -> proc_macro2::Ident {
    proc_macro2::Ident::new(&format!("{value:?}"), proc_macro2::Span::call_site())
}

/// A [`SecretFormat`] literal.
fn secret_format(f: &SecretFormat) -> TokenStream {
    let core = quote!(::hookspec_runtime::core);
    // The variant's own name: a new encoding needs nothing here.
    let encoding =
        proc_macro2::Ident::new(&format!("{:?}", f.encoding), proc_macro2::Span::call_site());
    let prefix = opt_text(f.strip_prefix.as_deref());
    quote! {
        #core::SecretFormat {
            encoding: #core::SecretEncoding::#encoding,
            strip_prefix: #prefix,
        }
    }
}
