//! nftables commands run in-process by libnftables (the library the `nft` binary is a thin
//! front-end of), loaded at run time with `dlopen`: loading a table and listing it then cost
//! no process, no dynamic linking of `nft` and its libraries, and no pipe. Where the library is
//! missing (or `NETC_NFT_BINARY=1`), [`run`] says so and the caller spawns `nft` instead; the
//! results are the same, since `nft` passes its command line or file to the same library call.
//!
//! The API (libnftables(3); include/nftables/libnftables.h of nftables): `nft_ctx_new(0)`,
//! `nft_ctx_buffer_output` / `nft_ctx_buffer_error` to collect what `nft` would print on stdout
//! and stderr, `nft_run_cmd_from_buffer` (0 on success), `nft_ctx_get_output_buffer` /
//! `nft_ctx_get_error_buffer`, `nft_ctx_free`. The `nft` binary sets no output flags unless
//! asked to (src/main.c: `output_flags = 0`), so a context with none lists a table exactly as
//! `nft list table` prints it.
//!
//! libnftables exits the process when it cannot open its netfilter netlink socket
//! (`netlink_init_error`); [`run`] first opens one itself and falls back to the binary if
//! that fails, so netc never dies half-way through an apply.

use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::sync::OnceLock;

use netlink_sys::{Socket, protocols::NETLINK_NETFILTER};

/// Set to `1` to always spawn the `nft` binary (tests; hosts where the library misbehaves).
pub const BINARY_ENV: &str = "NETC_NFT_BINARY";

type CtxNew = unsafe extern "C" fn(u32) -> *mut c_void;
type CtxFree = unsafe extern "C" fn(*mut c_void);
type CtxBuffer = unsafe extern "C" fn(*mut c_void) -> c_int;
type CtxGetBuffer = unsafe extern "C" fn(*mut c_void) -> *const c_char;
type RunCmd = unsafe extern "C" fn(*mut c_void, *const c_char) -> c_int;

struct Api {
    ctx_new: CtxNew,
    ctx_free: CtxFree,
    buffer_output: CtxBuffer,
    buffer_error: CtxBuffer,
    output: CtxGetBuffer,
    error: CtxGetBuffer,
    run_cmd: RunCmd,
}

/// The library's functions, looked up once; `None` when it cannot be loaded.
fn api() -> Option<&'static Api> {
    static API: OnceLock<Option<Api>> = OnceLock::new();
    API.get_or_init(load).as_ref()
}

fn load() -> Option<Api> {
    // SAFETY: dlopen/dlsym with NUL-terminated names; the handle is never closed, so the
    // function pointers stay valid for the life of the process. Each symbol is cast to the
    // signature libnftables.h declares for it.
    unsafe {
        let handle = libc::dlopen(
            c"libnftables.so.1".as_ptr(),
            libc::RTLD_NOW | libc::RTLD_LOCAL,
        );
        if handle.is_null() {
            return None;
        }
        let sym = |name: &CStr| {
            let p = libc::dlsym(handle, name.as_ptr());
            (!p.is_null()).then_some(p)
        };
        Some(Api {
            ctx_new: std::mem::transmute::<*mut c_void, CtxNew>(sym(c"nft_ctx_new")?),
            ctx_free: std::mem::transmute::<*mut c_void, CtxFree>(sym(c"nft_ctx_free")?),
            buffer_output: std::mem::transmute::<*mut c_void, CtxBuffer>(sym(
                c"nft_ctx_buffer_output",
            )?),
            buffer_error: std::mem::transmute::<*mut c_void, CtxBuffer>(sym(
                c"nft_ctx_buffer_error",
            )?),
            output: std::mem::transmute::<*mut c_void, CtxGetBuffer>(sym(
                c"nft_ctx_get_output_buffer",
            )?),
            error: std::mem::transmute::<*mut c_void, CtxGetBuffer>(sym(
                c"nft_ctx_get_error_buffer",
            )?),
            run_cmd: std::mem::transmute::<*mut c_void, RunCmd>(sym(c"nft_run_cmd_from_buffer")?),
        })
    }
}

/// What a command printed: `Ok(stdout)` when it succeeded, `Err(stderr)` when not.
pub type Outcome = Result<String, String>;

/// Runs `commands` (a command line or a whole `nft -f` file) in-process; `None` when the
/// library is not usable here (the caller runs `nft` instead).
pub fn run(commands: &str) -> Option<Outcome> {
    if std::env::var_os(BINARY_ENV).is_some_and(|v| v == "1") {
        return None;
    }
    let api = api()?;
    // The library exits the process if it cannot open this socket: make sure it can.
    Socket::new(NETLINK_NETFILTER).ok()?;
    let Ok(commands) = CString::new(commands) else {
        return Some(Err("nftables input contains a NUL byte".into()));
    };
    // SAFETY: the context is created, used and freed here only; the buffers it returns are
    // NUL-terminated strings owned by the context, copied before it is freed.
    unsafe {
        let ctx = (api.ctx_new)(0);
        if ctx.is_null() {
            return None;
        }
        if (api.buffer_output)(ctx) != 0 || (api.buffer_error)(ctx) != 0 {
            (api.ctx_free)(ctx);
            return None;
        }
        let rc = (api.run_cmd)(ctx, commands.as_ptr());
        let text = |p: *const c_char| {
            if p.is_null() {
                String::new()
            } else {
                CStr::from_ptr(p).to_string_lossy().into_owned()
            }
        };
        let out = text((api.output)(ctx));
        let err = text((api.error)(ctx));
        (api.ctx_free)(ctx);
        Some(if rc == 0 { Ok(out) } else { Err(err) })
    }
}
