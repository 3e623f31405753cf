import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { apiBaseUrl } from "./lib/config";
import "./styles.css";

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root");
createRoot(root).render(
  <StrictMode>
    <App apiUrl={apiBaseUrl(window.AIDO_CONFIG)} />
  </StrictMode>,
);
