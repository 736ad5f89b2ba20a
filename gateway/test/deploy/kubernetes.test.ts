import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { Job } from "kubernetes-models/batch/v1/Job";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { describe, expect, it } from "vitest";
import { MODEL_ENV, readModelConfig } from "../../src/agent/model-config.ts";
import { commandList } from "../../src/cli.ts";
import { EnvSchema, loadConfig, SECRETS } from "../../src/config.ts";
import {
  type ComposeService,
  composeDefault,
  KUBERNETES_DIR,
  type Manifest,
  REPO,
  readCompose,
  readKustomization,
  readManifests,
} from "./project-files.ts";

// The manifests, the compose file and the config schema describe one deployment; these checks keep them in step.

type Container = {
  name: string;
  image: string;
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: {
      secretKeyRef?: { name: string; key: string };
      configMapKeyRef?: { name: string; key: string };
    };
  }[];
  envFrom?: unknown[];
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[] };
  };
};
type PodSpec = {
  containers: Container[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; runAsGroup?: number };
};
type Workload = Manifest["doc"] & {
  spec: { template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
};

const manifests = readManifests();
const compose = readCompose();
const schemaNames = new Set([...Object.keys(EnvSchema.shape), ...MODEL_ENV]);
const dockerfile = readFileSync(path.join(REPO, "Dockerfile"), "utf8");

const find = (kind: string, name: string) => {
  const found = manifests.find((m) => m.doc.kind === kind && m.doc.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in deploy/kubernetes`);
  return found.doc;
};
const workload = (kind: string, name: string) => find(kind, name) as Workload;
const container = (w: Workload) => {
  const [only, ...rest] = w.spec.template.spec.containers;
  expect(rest).toEqual([]);
  return only!;
};
const configMap = find("ConfigMap", "margin") as Manifest["doc"] & { data: Record<string, string> };
const secret = find("Secret", "margin") as Manifest["doc"] & { stringData: Record<string, string> };

/** The environment a container starts with, its Secret and ConfigMap references resolved. */
function environmentOf(c: Container): Record<string, string> {
  // envFrom would hand a container every key, read or not; each names its own instead.
  expect(c.envFrom, c.name).toBeUndefined();
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    const { secretKeyRef: s, configMapKeyRef: m } = e.valueFrom ?? {};
    const value = s
      ? (find("Secret", s.name) as typeof secret).stringData[s.key]
      : m
        ? (find("ConfigMap", m.name) as typeof configMap).data[m.key]
        : e.value;
    if (value === undefined) throw new Error(`${c.name}: ${e.name} refers to a missing key`);
    env[e.name] = value;
  }
  return env;
}

/** A compose service's environment as compose resolves it from .env.example with its blanks filled. */
function composeEnvironment(service: ComposeService): Record<string, string> {
  const filled: Record<string, string> = {
    MCP_TOKEN_SECRET: "m".repeat(40),
    BETTER_AUTH_SECRET: "b".repeat(40),
    POSTGRES_PASSWORD: "pw",
  };
  return Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([k, v]) => [
      k,
      composeDefault(String(v)).replace(/\$\{([A-Z_]+):\?[^}]*\}/g, (_, name: string) => filled[name] ?? ""),
    ]),
  );
}

const containerPortOf = (service: ComposeService) => Number(service.ports?.[0]?.split(":").at(-1));

describe("the Kubernetes manifests", () => {
  it("are valid against the Kubernetes schemas", () => {
    const models: Record<string, new (data: never) => { validate(): void }> = {
      "apps/v1 Deployment": Deployment,
      "autoscaling/v2 HorizontalPodAutoscaler": HorizontalPodAutoscaler,
      "batch/v1 Job": Job,
      "networking.k8s.io/v1 Ingress": Ingress,
      "v1 ConfigMap": ConfigMap,
      "v1 Secret": Secret,
      "v1 Service": Service,
    };
    expect(manifests.map((m) => m.doc.kind).sort()).toEqual(
      [
        ...["ConfigMap", "Secret", "Job", "Ingress"],
        ...["Deployment", "Service", "HorizontalPodAutoscaler"].flatMap((k) => [k, k]),
      ].sort(),
    );
    for (const { file, doc } of manifests) {
      const Model = models[`${doc.apiVersion} ${doc.kind}`];
      expect(Model, `${file}: no schema for ${doc.apiVersion} ${doc.kind}`).toBeDefined();
      expect(
        () => new Model!(doc as never).validate(),
        `${file}: ${doc.kind} ${doc.metadata.name}`,
      ).not.toThrow();
    }
  });

  it("catch a wrong field (the validation is real)", () => {
    const broken = structuredClone(workload("Deployment", "margin-gateway")) as unknown as {
      spec: { replicas: unknown };
    };
    broken.spec.replicas = "two";
    expect(() => new Deployment(broken as never).validate()).toThrow();
  });

  it("are all applied by kustomization.yaml, except the Secret template", () => {
    const { resources, images } = readKustomization();
    for (const r of resources) expect(existsSync(path.join(KUBERNETES_DIR, r)), r).toBe(true);
    const files = new Set(manifests.map((m) => m.file));
    expect([...files].filter((f) => !resources.includes(f))).toEqual(["secret.example.yaml"]);
    expect(images?.map((i) => i.name)).toEqual(["margin"]);
  });

  it("run the compose file's image, commands and ports", () => {
    const image = composeDefault(compose.services.gateway!.image!);
    const pairs = [
      ["gateway", workload("Deployment", "margin-gateway")],
      ["mcp", workload("Deployment", "margin-mcp")],
      ["migrate", workload("Job", "margin-migrate")],
    ] as const;
    for (const [name, w] of pairs) {
      const service = compose.services[name]!;
      expect(composeDefault(service.image!), name).toBe(image);
      expect(container(w).image, name).toBe(image);
      expect(container(w).args, name).toEqual(service.command);
    }
    expect(readKustomization().images?.[0]).toMatchObject({
      name: image.split(":")[0],
      newTag: image.split(":")[1],
    });

    const gateway = container(workload("Deployment", "margin-gateway"));
    const mcp = container(workload("Deployment", "margin-mcp"));
    const gatewayPort = containerPortOf(compose.services.gateway!);
    const mcpPort = Number(composeEnvironment(compose.services.mcp!).MCP_PORT);
    expect(gateway.ports).toEqual([{ name: "http", containerPort: gatewayPort }]);
    expect(mcp.ports).toEqual([{ name: "http", containerPort: mcpPort }]);
    expect(Number(environmentOf(gateway).PORT)).toBe(gatewayPort);
    expect(Number(environmentOf(mcp).MCP_PORT)).toBe(mcpPort);
    // The defaults agree too, and the image exposes both.
    const defaults = EnvSchema.parse({});
    expect([defaults.PORT, defaults.MCP_PORT]).toEqual([gatewayPort, mcpPort]);
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${gatewayPort} ${mcpPort}$`, "m"));

    // The gateway finds the MCP server through its Service, on the port it listens on.
    const mcpUrl = new URL(configMap.data.MCP_URL!);
    const mcpService = find("Service", "margin-mcp") as Manifest["doc"] & {
      spec: { ports: { port: number; targetPort: string }[] };
    };
    expect(mcpUrl.hostname).toBe("margin-mcp");
    expect(mcpService.spec.ports).toEqual([{ name: "http", port: Number(mcpUrl.port), targetPort: "http" }]);
    expect(new URL(composeEnvironment(compose.services.mcp!).MCP_URL!).port).toBe(String(mcpPort));
  });

  it("give each process exactly what compose gives it: only what its command reads, and its secrets", () => {
    const pairs = [
      ["gateway", container(workload("Deployment", "margin-gateway"))],
      ["mcp", container(workload("Deployment", "margin-mcp"))],
      ["migrate", container(workload("Job", "margin-migrate"))],
    ] as const;
    for (const [name, c] of pairs) {
      const kube = environmentOf(c);
      const composed = composeEnvironment(compose.services[name]!);
      expect(Object.keys(kube).sort(), name).toEqual(Object.keys(composed).sort());
      // The command's own list (what `margin <command> --help` prints; cli-help checks it against config.ts).
      const command = commandList.find((cmd) => cmd.name === compose.services[name]!.command?.[0]);
      expect(command, name).toBeDefined();
      const reads = new Set<string>([...command!.env, ...command!.secrets]);
      const extra = Object.keys(kube).filter((k) => !schemaNames.has(k) || !reads.has(k));
      expect(extra, `${name}: given but not read`).toEqual([]);
      const given = Object.keys(kube).filter((k) => k in SECRETS);
      expect(given.sort(), `${name}: secrets`).toEqual([...command!.secrets].sort());
      // Both parse: the values are valid, and the secrets the command needs with a real database are there.
      for (const env of [kube, composed])
        expect(loadConfig(env, { secrets: command!.secrets }).database.kind, name).toBe("postgres");
      if (name === "gateway")
        for (const env of [kube, composed]) expect(readModelConfig(env).provider).toBe("offline");
    }
  });

  it("probe /readyz and /healthz, bound their resources and run as the image's non-root user", () => {
    const [, uid, gid] = /^USER (\d+):(\d+)$/m.exec(dockerfile) ?? [];
    for (const name of ["margin-gateway", "margin-mcp"]) {
      const w = workload("Deployment", name);
      const c = container(w);
      expect(c.readinessProbe?.httpGet, name).toEqual({ path: "/readyz", port: "http" });
      expect(c.livenessProbe?.httpGet, name).toEqual({ path: "/healthz", port: "http" });
      expect(Object.keys(c.resources?.requests ?? {}).sort(), name).toEqual(["cpu", "memory"]);
      expect(Object.keys(c.resources?.limits ?? {}).sort(), name).toEqual(["cpu", "memory"]);
    }
    for (const w of [
      workload("Deployment", "margin-gateway"),
      workload("Deployment", "margin-mcp"),
      workload("Job", "margin-migrate"),
    ]) {
      expect(w.spec.template.spec.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: Number(uid),
        runAsGroup: Number(gid),
      });
      expect(container(w).securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      });
    }
  });

  it("route the Ingress to the gateway, select their pods, and scale each Deployment", () => {
    for (const name of ["margin-gateway", "margin-mcp"]) {
      const labels = workload("Deployment", name).spec.template.metadata.labels;
      const service = find("Service", name) as Manifest["doc"] & {
        spec: { selector: Record<string, string> };
      };
      expect(service.spec.selector).toEqual(labels);
      const hpa = find("HorizontalPodAutoscaler", name) as Manifest["doc"] & {
        spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number };
      };
      expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: "Deployment", name });
      expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    }
    const ingress = find("Ingress", "margin-gateway") as Manifest["doc"] & {
      spec: { rules: { host: string; http: { paths: { backend: { service: { name: string } } }[] } }[] };
    };
    const [rule] = ingress.spec.rules;
    expect(rule?.http.paths.map((p) => p.backend.service.name)).toEqual(["margin-gateway"]);
    expect(`https://${rule?.host}`).toBe(configMap.data.PUBLIC_URL);
  });
});

describe("the compose file", () => {
  it("keeps Postgres on a volume behind a health check, migrates once, and publishes on localhost only", () => {
    const { postgres, migrate, mcp, gateway } = compose.services;
    expect(postgres?.healthcheck?.test).toContain("pg_isready");
    expect(compose.volumes).toHaveProperty("pgdata");
    expect(migrate?.depends_on).toEqual({ postgres: { condition: "service_healthy" } });
    expect(mcp?.depends_on).toEqual({ migrate: { condition: "service_completed_successfully" } });
    expect(gateway?.depends_on).toEqual({
      migrate: { condition: "service_completed_successfully" },
      mcp: { condition: "service_healthy" },
    });
    for (const [name, service] of Object.entries(compose.services))
      for (const port of service.ports ?? []) expect(composeDefault(port), name).toMatch(/^127\.0\.0\.1:/);
  });

  it("documents in .env.example every variable it reads", () => {
    const text = readFileSync(path.join(REPO, "docker-compose.yml"), "utf8");
    const used = new Set([...text.matchAll(/\$\{([A-Z_]+)/g)].map((m) => m[1]!));
    const example = readFileSync(path.join(REPO, ".env.example"), "utf8");
    const documented = new Set([...example.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]!));
    expect([...used].filter((v) => !documented.has(v))).toEqual([]);
    expect([...documented].filter((v) => !used.has(v))).toEqual([]);
  });
});
