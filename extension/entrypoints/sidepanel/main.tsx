import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "../../src/panel/App.tsx";
import "../../src/panel/panel.css";

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
