//! Serves a site folder on localhost with the MIME types browsers insist on (`application/wasm`
//! for streaming compilation, `text/javascript` for module workers).

use std::path::{Component, Path, PathBuf};

use anyhow::{Result, anyhow};
use tiny_http::{Header, Response, Server};

/// A bound server over one folder.
pub struct SiteServer {
    server: Server,
    root: PathBuf,
}

impl SiteServer {
    /// Binds `127.0.0.1:port` (0: any free port).
    pub fn bind(root: &Path, port: u16) -> Result<Self> {
        let server = Server::http(("127.0.0.1", port)).map_err(|e| {
            let in_use = e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::AddrInUse);
            if in_use {
                anyhow!("port {port} is in use (another server, or an earlier `rticket site --serve`): pass --port with a free one")
            } else {
                anyhow!("cannot listen on 127.0.0.1:{port}: {e}")
            }
        })?;
        Ok(Self { server, root: root.to_path_buf() })
    }

    /// The URL the site is served at.
    pub fn url(&self) -> String {
        match self.server.server_addr().to_ip() {
            Some(addr) => format!("http://{addr}/"),
            None => "(not an IP socket)".into(),
        }
    }

    /// Answers requests until the process ends.
    pub fn run(self) -> Result<()> {
        for request in self.server.incoming_requests() {
            let path = self.resolve(request.url());
            let answer = match path.as_deref().map(std::fs::File::open) {
                Some(Ok(file)) => {
                    let mime = mime_type(path.as_deref().unwrap_or(Path::new("")));
                    request.respond(Response::from_file(file).with_header(header("Content-Type", mime)).with_header(header("Cache-Control", "no-cache")))
                }
                _ => request.respond(Response::from_string("not found").with_status_code(404)),
            };
            if let Err(e) = answer {
                eprintln!("site: a response failed: {e}");
            }
        }
        Ok(())
    }

    /// The file a URL names under the root (`/` is index.html); `None` for anything that would
    /// leave the root.
    fn resolve(&self, url: &str) -> Option<PathBuf> {
        let path = url.split(['?', '#']).next().unwrap_or("/");
        let relative = Path::new(path.trim_start_matches('/'));
        if relative.components().any(|c| !matches!(c, Component::Normal(_))) {
            return None;
        }
        let full = self.root.join(relative);
        let full = if full.is_dir() { full.join("index.html") } else { full };
        full.is_file().then_some(full)
    }
}

/// Serves `root` on `port` until interrupted, printing the URL.
pub fn serve(root: &Path, port: u16) -> Result<()> {
    let server = SiteServer::bind(root, port)?;
    eprintln!("site: serving {} at {} (Ctrl-C stops)", root.display(), server.url());
    server.run()
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("static header names and values are valid")
}

fn mime_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "css" => "text/css",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn get(url: &str, path: &str) -> String {
        let addr = url.trim_start_matches("http://").trim_end_matches('/');
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    }

    #[test]
    fn serves_files_with_their_mime_types_and_nothing_outside_the_folder() {
        let root = std::env::temp_dir().join(format!("rticket-serve-{}", std::process::id()));
        std::fs::create_dir_all(root.join("js")).unwrap();
        std::fs::write(root.join("index.html"), "<p>page</p>").unwrap();
        std::fs::write(root.join("app_bg.wasm"), b"\0asm").unwrap();
        std::fs::write(root.join("js/worker.js"), "x").unwrap();
        let server = SiteServer::bind(&root, 0).unwrap();
        let url = server.url();
        std::thread::spawn(move || server.run());
        let index = get(&url, "/");
        assert!(index.starts_with("HTTP/1.1 200") && index.contains("text/html") && index.contains("<p>page</p>"), "{index}");
        assert!(get(&url, "/app_bg.wasm").contains("Content-Type: application/wasm"));
        assert!(get(&url, "/js/worker.js?v=1").contains("Content-Type: text/javascript"));
        assert!(get(&url, "/../etc/passwd").starts_with("HTTP/1.1 404"));
        assert!(get(&url, "/missing.js").starts_with("HTTP/1.1 404"));

        // A port in use is named, with the fix.
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let err = SiteServer::bind(&root, port).err().expect("the port is taken").to_string();
        assert!(err.contains(&format!("port {port} is in use")) && err.contains("--port"), "{err}");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
