//! Start-up checks: a display to open the window on and a GPU to draw with. A machine without
//! either gets one line saying what to install, and exit code 1, instead of a backtrace.

/// What a headless Debian or Ubuntu machine needs to run the editor under Xvfb.
pub const HEADLESS_PACKAGES: &str = "xvfb xauth mesa-vulkan-drivers libvulkan1";

/// Fails when there is no display server to open a window on (Linux and the BSDs: neither
/// `DISPLAY` nor `WAYLAND_DISPLAY` is set).
pub fn check_display() -> Result<(), String> {
    if cfg!(all(unix, not(target_os = "macos"))) && !set("DISPLAY") && !set("WAYLAND_DISPLAY") {
        return Err(no_display());
    }
    Ok(())
}

fn set(var: &str) -> bool {
    std::env::var_os(var).is_some_and(|v| !v.is_empty())
}

fn no_display() -> String {
    format!(
        "no display to open the editor's window on (neither DISPLAY nor WAYLAND_DISPLAY is set): run it in a desktop session, \
         or on a headless machine install {HEADLESS_PACKAGES} and run `xvfb-run -a rigsmith edit FILE`; the other commands \
         (rig, convert, eval, ...) need no display"
    )
}

fn no_gpu() -> String {
    format!(
        "no GPU adapter to draw the editor with (no Vulkan or GL driver found): install your GPU's Vulkan driver, or Mesa's \
         software one ({HEADLESS_PACKAGES} on Debian or Ubuntu); the other commands (rig, convert, eval, ...) need no GPU"
    )
}

/// The one-line error for a panic message Bevy raises when the window or the GPU cannot be
/// had at start-up; `None` for any other panic.
pub fn startup_failure(message: &str) -> Option<String> {
    if message.contains("Unable to find a GPU") || message.contains("Failed to get an adapter") {
        Some(no_gpu())
    } else if message.contains("Failed to build event loop") || message.contains("neither WAYLAND_DISPLAY nor DISPLAY") {
        Some(no_display())
    } else {
        None
    }
}

/// Installs a panic hook that turns [`startup_failure`]s into `error: ...` on stderr and exit
/// code 1; other panics go to the previous hook.
pub fn exit_cleanly_on_startup_failures() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| payload.downcast_ref::<String>().cloned());
        if let Some(line) = message.as_deref().and_then(startup_failure) {
            eprintln!("error: {line}");
            std::process::exit(1);
        }
        previous(info);
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bevys_window_and_gpu_panics_become_one_line_that_says_what_to_install() {
        let gpu = startup_failure("Unable to find a GPU! Make sure you have installed required drivers!").expect("recognised");
        assert!(gpu.contains("mesa-vulkan-drivers") && !gpu.contains('\n'));
        let display = startup_failure("Failed to build event loop: Os(OsError { .. neither WAYLAND_DISPLAY nor DISPLAY is set })");
        assert!(display.expect("recognised").contains("xvfb-run"));
        assert_eq!(startup_failure("index out of bounds"), None);
    }
}
