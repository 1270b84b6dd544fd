//! A real SAML identity provider for the single sign-on tests: pysaml2's, run as
//! `tests/saml/idp.py` (its `--help` tells its endpoints and refusal modes), and the
//! auto-submitting form it answers with, read as a browser reads it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long the IdP may take to start (pysaml2 loads its attribute maps and the SP's metadata).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The IdP script.
pub fn idp_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("saml/idp.py")
}

/// Whether pysaml2 and xmlsec1 are installed (scripts/test.sh installs them).
pub fn pysaml2_available() -> bool {
    let pysaml2 = Command::new("python3")
        .args(["-c", "import saml2.server"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    pysaml2 && Path::new("/usr/bin/xmlsec1").exists()
}

/// A running `tests/saml/idp.py`, killed when dropped.
pub struct TestIdp {
    child: Child,
    url: String,
    metadata: PathBuf,
}

impl TestIdp {
    /// Starts the IdP in `dir` for the SP whose metadata is `sp_metadata`, with `users`
    /// (a JSON object: user name → attribute → values) and `extra` arguments. It binds a
    /// port the system chooses and says which once its metadata is written (to
    /// `<dir>/idp-metadata.xml`). Panics, with its standard error, if it does not start.
    pub fn start(
        dir: &Path,
        sp_metadata: &Path,
        users: &serde_json::Value,
        extra: &[&str],
    ) -> Self {
        assert!(
            pysaml2_available(),
            "pysaml2 or xmlsec1 is missing: run the tests with scripts/test.sh, which installs them"
        );
        let users_file = dir.join("idp-users.json");
        std::fs::write(&users_file, users.to_string()).unwrap();
        let metadata = dir.join("idp-metadata.xml");
        let stderr_file = dir.join("idp.stderr");
        let mut child = Command::new("python3")
            .arg(idp_script())
            .arg("--sp-metadata")
            .arg(sp_metadata)
            .arg("--metadata-out")
            .arg(&metadata)
            .arg("--users")
            .arg(&users_file)
            .arg("--workdir")
            .arg(dir.join("idp-keys"))
            .args(extra)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr_file).unwrap())
            .spawn()
            .expect("python3 runs the IdP");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
            for line in lines.by_ref() {
                if let Some(url) = line.strip_prefix("READY ") {
                    let _ = tx.send(url.trim().to_string());
                    break;
                }
            }
            lines.for_each(drop);
        });
        let url = match rx.recv_timeout(START_TIMEOUT) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the test IdP did not start:\n{}",
                    std::fs::read_to_string(&stderr_file).unwrap_or_default()
                );
            }
        };
        Self {
            child,
            url,
            metadata,
        }
    }

    /// Its base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Its metadata file, for `ca-admin sso import-metadata`.
    pub fn metadata(&self) -> &Path {
        &self.metadata
    }
}

impl Drop for TestIdp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A form a page posts by itself (the HTTP-POST binding's): where to, and its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostForm {
    /// The form's action URL.
    pub action: String,
    /// Its hidden inputs, in order.
    pub fields: Vec<(String, String)>,
}

impl PostForm {
    /// A field's value.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The first `<form ... method="post">` of a page with its `<input name=... value=...>`s,
/// HTML entities decoded, as a browser would submit it.
pub fn post_form(html: &str) -> Option<PostForm> {
    let start = html.find("<form")?;
    let form = &html[start
        ..html[start..]
            .find("</form>")
            .map_or(html.len(), |e| start + e)];
    let action = attribute(&form[..form.find('>')?], "action")?;
    let mut fields = Vec::new();
    let mut rest = form;
    while let Some(at) = rest.find("<input") {
        rest = &rest[at..];
        let end = rest.find('>')?;
        let tag = &rest[..end];
        if let (Some(name), Some(value)) = (attribute(tag, "name"), attribute(tag, "value")) {
            if attribute(tag, "type").as_deref() != Some("submit") {
                fields.push((name, value));
            }
        }
        rest = &rest[end..];
    }
    Some(PostForm { action, fields })
}

/// The URL of a page's `<meta http-equiv="refresh" content="0;url=...">`.
pub fn meta_refresh(html: &str) -> Option<String> {
    let at = html.find("http-equiv=\"refresh\"")?;
    let tag_start = html[..at].rfind('<')?;
    let tag = &html[tag_start..tag_start + html[tag_start..].find('>')?];
    let content = attribute(tag, "content")?;
    let (_, url) = content.split_once("url=")?;
    Some(url.to_string())
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_refreshes_are_read_as_a_browser_reads_them() {
        let html = r#"<body onload="document.forms[0].submit()"><form action="https://sp.test/acs" method="post">
          <input type="hidden" name="SAMLResponse" value="PD94b+/="/>
          <input type="hidden" name="RelayState" value="/console/certificates?a=1&amp;b=2"/>
          <noscript><input type="submit" value="Continue"/></noscript></form>"#;
        let form = post_form(html).unwrap();
        assert_eq!(form.action, "https://sp.test/acs");
        assert_eq!(form.field("SAMLResponse"), Some("PD94b+/="));
        assert_eq!(
            form.field("RelayState"),
            Some("/console/certificates?a=1&b=2")
        );
        assert_eq!(form.fields.len(), 2);
        let page =
            r#"<head><meta http-equiv="refresh" content="0;url=/console/queue"><title>x</title>"#;
        assert_eq!(meta_refresh(page).as_deref(), Some("/console/queue"));
        assert_eq!(meta_refresh("<p>no</p>"), None);
    }
}
