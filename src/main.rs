fn main() {
    // Panic messages in the console while developing; the release widget (which every
    // page of a customer's site loads) leaves the formatting code out: 1.4 KiB gzipped.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(paycard_widget::WidgetApp);
}
