// First: starts reading the session and settings before the modules below are evaluated.
import "../../src/panel/start.ts";
import { StrictMode } from "react";
import { flushSync } from "react-dom";
import { createRoot } from "react-dom/client";
import { App } from "../../src/panel/App.tsx";
import { panelStart } from "../../src/panel/start.ts";
import "../../src/panel/panel.css";

void panelStart.then((start) => {
  const root = createRoot(document.getElementById("root")!);
  // Rendered now rather than on the scheduler's next task, which would queue behind the panel's other work.
  flushSync(() =>
    root.render(
      <StrictMode>
        <App start={start} />
      </StrictMode>,
    ),
  );
});
