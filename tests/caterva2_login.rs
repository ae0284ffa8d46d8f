//! `Caterva2Source` against a `cat2-server` that needs a login: with credentials the `@shared`
//! dataset reads like any other; without them, or with a wrong password, the error says 401 or
//! "login failed" and names the path; the password and the token appear in no error, stamp or
//! `Debug` output.

#![cfg(feature = "caterva2")]

use crate::caterva2_support;
use crate::common;

use caterva2_support::Server;
use vastarray::io::b2nd::nd_from_bytes;
use vastarray::io::caterva2::{Caterva2Source, Credentials};
use vastarray::{ChunkSource, DType, DynArray};

const USER: &str = "alice@example.com";
const PASSWORD: &str = "pa ss&=w0rd!";

const WRITE: &str = r#"
import sys, numpy as np, blosc2
shared, raw = sys.argv[1], sys.argv[2]
a = np.arange(11 * 7, dtype="int32").reshape(11, 7) * 3 - 50
blosc2.asarray(a, chunks=(4, 3), blocks=(2, 2), urlpath=f"{shared}/x.b2nd", mode="w")
open(f"{raw}/x.raw", "wb").write(a.tobytes())
print("ok")
"#;

#[test]
fn login_required_and_credentials_kept_secret() {
    let server = Server::start_with_users(&[(USER, PASSWORD)]);
    let raw = server.scratch();
    let out = common::run_python(
        WRITE,
        &[server.shared_dir().to_str().unwrap(), raw.to_str().unwrap()],
    );
    assert_eq!(out.trim(), "ok");
    let want = nd_from_bytes(
        DType::I32,
        &[11, 7],
        &std::fs::read(raw.join("x.raw")).unwrap(),
    )
    .unwrap();

    // With credentials: logged in, values equal.
    let cred = Credentials::new(USER, PASSWORD);
    assert!(!format!("{cred:?}").contains(PASSWORD));
    let src = Caterva2Source::open(&server.base, "@shared/x.b2nd", Some(cred.clone())).unwrap();
    assert!(src.client().is_logged_in());
    let client = src.client().clone();
    let id = src.identity().unwrap();
    assert!(!id.contains(PASSWORD), "{id}");
    assert!(!id.contains("c2subauth"), "{id}");
    assert!(!format!("{client:?}").contains(PASSWORD));
    assert_eq!(DynArray::from_source(src).ndarray().unwrap(), want);
    assert!(client.roots().unwrap().contains(&"@shared".to_string()));

    // Without credentials: a clear 401 naming the path.
    let e = Caterva2Source::open(&server.base, "@shared/x.b2nd", None)
        .err()
        .expect("anonymous access must fail")
        .to_string();
    assert!(e.contains("401") && e.contains("@shared/x.b2nd"), "{e}");
    assert!(e.contains("no credentials"), "{e}");

    // A wrong password: the login fails, and neither password shows.
    let bad = Credentials::new(USER, "not-the-password");
    let e = Caterva2Source::open(&server.base, "@shared/x.b2nd", Some(bad))
        .err()
        .expect("a wrong password must fail")
        .to_string();
    assert!(e.contains("login failed") && e.contains("400"), "{e}");
    assert!(e.contains("auth/jwt/login"), "{e}");
    assert!(
        !e.contains("not-the-password") && !e.contains(PASSWORD),
        "{e}"
    );
}
