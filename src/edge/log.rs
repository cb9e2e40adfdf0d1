//! Routes the core's `log` records to the Workers console (and so to
//! `wrangler tail` and Workers Logs).

struct Console;

impl log::Log for Console {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::Level::Info
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        match record.level() {
            log::Level::Error => worker::console_error!("{}", record.args()),
            log::Level::Warn => worker::console_warn!("{}", record.args()),
            _ => worker::console_log!("{}", record.args()),
        }
    }

    fn flush(&self) {}
}

static CONSOLE: Console = Console;

pub fn install() {
    // Fails only if already installed (a reused isolate): nothing to do then.
    if log::set_logger(&CONSOLE).is_ok() {
        log::set_max_level(log::LevelFilter::Info);
    }
}
