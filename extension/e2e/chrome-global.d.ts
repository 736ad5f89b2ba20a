// Code passed to worker.evaluate()/page.evaluate() runs inside the extension, where `chrome` is the API.
declare const chrome: import("wxt/browser").WxtBrowser;
