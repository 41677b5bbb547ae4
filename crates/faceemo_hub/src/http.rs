//! The few HTTP requests the hub needs, on `ureq`, with the rules a shared cache and a
//! secret token call for: redirects followed by hand (a `Location` is required, relative
//! ones resolved, at most [`MAX_REDIRECTS`], no loops), the token sent only to the
//! endpoint's own origin and never in the clear across a network, bodies read with a cap.

use std::io::Read as _;
use std::time::Duration;

use url::Url;

use crate::HubSettings;

/// The most redirects one request follows (the hub uses one, to its CDN).
pub const MAX_REDIRECTS: usize = 5;

/// What went wrong with one request, before it is tied to a repository and a file.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// A URL that cannot be parsed (the endpoint, or a redirect's target).
    #[error("{url:?} is not a URL: {reason}")]
    BadUrl {
        /// The text that was not a URL (shortened).
        url: String,
        /// What `url` said.
        reason: String,
    },
    /// A redirect that cannot be followed.
    #[error("{url} redirects {problem}")]
    Redirect {
        /// The URL that answered with the redirect.
        url: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The server answered with an error status.
    #[error("{url} answered {status}{}", hint(*status))]
    Status {
        /// The URL asked for.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// No answer: connection refused, timed out, TLS failure…
    #[error("cannot reach {url}: {reason}")]
    Transport {
        /// The URL asked for.
        url: String,
        /// What failed.
        reason: String,
    },
    /// A body past the size it may have.
    #[error("{url} sent more than {limit} bytes")]
    TooLarge {
        /// The URL asked for.
        url: String,
        /// The cap.
        limit: u64,
    },
    /// Reading the body failed.
    #[error("reading the answer of {url} failed")]
    Read {
        /// The URL asked for.
        url: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

fn hint(status: u16) -> &'static str {
    match status {
        401 | 403 => " (a private or gated repository needs HF_TOKEN)",
        404 => " (no such repository, revision or file)",
        429 => " (too many requests: try again later)",
        _ => "",
    }
}

/// An answer whose status is not a redirect, with the URL it finally came from.
pub struct Answer {
    /// The `ureq` response (2xx, or 416 for a range past the end).
    pub response: ureq::Response,
    /// The URL that answered.
    pub url: Url,
}

/// A client for one endpoint.
pub struct HubClient {
    agent: ureq::Agent,
    endpoint: Url,
    token: Option<String>,
}

impl HubClient {
    /// A client for `settings.endpoint`, with the token when it may be sent there.
    pub fn new(settings: &HubSettings) -> Result<Self, HttpError> {
        let endpoint = Url::parse(&settings.endpoint).map_err(|e| HttpError::BadUrl {
            url: crate::listing::excerpt(&settings.endpoint),
            reason: e.to_string(),
        })?;
        let agent = ureq::AgentBuilder::new()
            .redirects(0)
            .timeout_connect(Duration::from_secs(20))
            .timeout_read(Duration::from_mins(1))
            .user_agent(concat!("faceemo/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Self {
            agent,
            endpoint,
            token: settings.token_for_endpoint().map(str::to_owned),
        })
    }

    /// The endpoint's URL with `path` (already escaped) appended.
    pub fn url(&self, path: &str) -> Result<Url, HttpError> {
        let base = self.endpoint.as_str().trim_end_matches('/');
        let text = format!("{base}/{}", path.trim_start_matches('/'));
        Url::parse(&text).map_err(|e| HttpError::BadUrl {
            url: crate::listing::excerpt(&text),
            reason: e.to_string(),
        })
    }

    /// `GET url` with `headers`, following redirects by the rules of this module.
    pub fn get(&self, url: Url, headers: &[(&str, String)]) -> Result<Answer, HttpError> {
        let mut seen = vec![url.clone()];
        let mut current = url;
        loop {
            let mut request = self.agent.request_url("GET", &current);
            for (name, value) in headers {
                request = request.set(name, value);
            }
            if let Some(token) = self.token_for(&current) {
                request = request.set("Authorization", &format!("Bearer {token}"));
            }
            let response = match request.call() {
                Ok(response) => response,
                Err(ureq::Error::Status(416, response)) => {
                    return Ok(Answer {
                        response,
                        url: current,
                    });
                }
                Err(ureq::Error::Status(status, _)) => {
                    return Err(HttpError::Status {
                        url: current.to_string(),
                        status,
                    });
                }
                Err(ureq::Error::Transport(transport)) => {
                    return Err(HttpError::Transport {
                        url: current.to_string(),
                        reason: transport.to_string(),
                    });
                }
            };
            if !(300..400).contains(&response.status()) {
                return Ok(Answer {
                    response,
                    url: current,
                });
            }
            let redirect_error = |problem: String| HttpError::Redirect {
                url: current.to_string(),
                problem,
            };
            let location = response
                .header("Location")
                .ok_or_else(|| redirect_error("without a Location header".to_owned()))?;
            let next = current.join(location).map_err(|e| {
                redirect_error(format!(
                    "to {:?}, which is not a URL ({e})",
                    crate::listing::excerpt(location)
                ))
            })?;
            if !matches!(next.scheme(), "http" | "https") {
                return Err(redirect_error(format!("to a {} URL", next.scheme())));
            }
            if seen.contains(&next) {
                return Err(redirect_error(format!("in a loop (back to {next})")));
            }
            if seen.len() > MAX_REDIRECTS {
                return Err(redirect_error(format!("more than {MAX_REDIRECTS} times")));
            }
            seen.push(next.clone());
            current = next;
        }
    }

    /// `GET url` and its body, refused past `limit` bytes.
    pub fn get_capped(&self, url: Url, limit: u64) -> Result<Vec<u8>, HttpError> {
        let answer = self.get(url, &[])?;
        let url = answer.url.to_string();
        let mut body = Vec::new();
        answer
            .response
            .into_reader()
            .take(limit + 1)
            .read_to_end(&mut body)
            .map_err(|source| HttpError::Read {
                url: url.clone(),
                source,
            })?;
        if body.len() as u64 > limit {
            return Err(HttpError::TooLarge { url, limit });
        }
        Ok(body)
    }

    /// The token for a request to `url`: only to the endpoint's own origin (scheme, host
    /// and port), so a redirect to a CDN or anywhere else never carries it.
    fn token_for(&self, url: &Url) -> Option<&str> {
        let same_origin = url.scheme() == self.endpoint.scheme()
            && url.host_str() == self.endpoint.host_str()
            && url.port_or_known_default() == self.endpoint.port_or_known_default();
        same_origin.then_some(self.token.as_deref()).flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(endpoint: &str) -> HubClient {
        let settings = HubSettings {
            token: Some("hf_secret".to_owned()),
            ..HubSettings::new("/cache", endpoint)
        };
        HubClient::new(&settings).expect("client")
    }

    #[test]
    fn the_token_goes_only_to_the_endpoints_origin() {
        let hub = client("https://huggingface.co");
        let url = |text: &str| Url::parse(text).expect("url");
        assert_eq!(
            hub.token_for(&url("https://huggingface.co/api/x")),
            Some("hf_secret")
        );
        for elsewhere in [
            "https://cdn-lfs.huggingface.co/x",
            "http://huggingface.co/x",
            "https://huggingface.co:8443/x",
            "https://huggingface.co.evil.example/x",
        ] {
            assert_eq!(hub.token_for(&url(elsewhere)), None, "{elsewhere}");
        }
        let plain = client("http://mirror.example.org");
        assert_eq!(plain.token_for(&url("http://mirror.example.org/x")), None);
    }

    #[test]
    fn paths_are_appended_to_the_endpoint() {
        let hub = client("http://127.0.0.1:9/prefix/");
        assert_eq!(
            hub.url("/api/models/a/b").expect("url").as_str(),
            "http://127.0.0.1:9/prefix/api/models/a/b"
        );
    }
}
