import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse, parseAllDocuments } from "yaml";

/** Reading the deploy files the way Docker, compose and kubectl do, for the tests that keep them in step. */

export const REPO = fileURLToPath(new URL("../../../", import.meta.url));
export const KUBERNETES_DIR = path.join(REPO, "deploy/kubernetes");

export type ComposeService = {
  image?: string;
  command?: string[];
  environment?: Record<string, string | number>;
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
};

export function readCompose(repo = REPO): { services: Record<string, ComposeService>; volumes?: object } {
  // Compose files share settings through YAML anchors and merge keys (<<).
  return parse(readFileSync(path.join(repo, "docker-compose.yml"), "utf8"), { merge: true });
}

/** The Dockerfile's default base image: `ARG NODE_IMAGE=…`. */
export function baseImageOf(dockerfile: string): string {
  const match = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile);
  if (!match?.[1]) throw new Error("the Dockerfile declares no ARG NODE_IMAGE=<default>");
  return match[1];
}

/** `${NAME:-default}` → default, as compose resolves it with NAME unset. */
export function composeDefault(value: string): string {
  return value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, "$1");
}

export type Manifest = {
  file: string;
  doc: { apiVersion: string; kind: string; metadata: { name: string } } & Record<string, unknown>;
};

/** Every Kubernetes object in deploy/kubernetes (multi-document files included), kustomization aside. */
export function readManifests(): Manifest[] {
  return readdirSync(KUBERNETES_DIR)
    .filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml")
    .flatMap((file) =>
      parseAllDocuments(readFileSync(path.join(KUBERNETES_DIR, file), "utf8")).map((d) => {
        if (d.errors.length) throw new Error(`${file}: ${d.errors[0]?.message}`);
        return { file, doc: d.toJS() };
      }),
    );
}

export function readKustomization(): {
  resources: string[];
  images?: { name: string; newName?: string; newTag?: string }[];
} {
  return parse(readFileSync(path.join(KUBERNETES_DIR, "kustomization.yaml"), "utf8"));
}
