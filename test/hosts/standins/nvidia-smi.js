// TEST DOUBLE for `nvidia-smi` (NVIDIA driver 535 series), installed by test/hosts/sshHost.ts.
//
// Reports the GPU inventory the test wrote to STATE/gpus.json; memory.used is the configured
// baseline plus what every running stand-in container holds on that device (see common.js), so a
// preflight that runs while its own container is up sees the memory that container took — as on a
// real host. Supported, in nvidia-smi's real output formats:
//   nvidia-smi                                   summary table, exit 0
//   nvidia-smi -L | --list-gpus                  "GPU 0: NVIDIA A10G (UUID: GPU-…)"
//   nvidia-smi --query-gpu=F1,F2 --format=csv[,noheader][,nounits] [-i|--id=IDS]
//   nvidia-smi --query-compute-apps=… --format=csv…   (no processes: header only / empty)
//   nvidia-smi --version | -h
// Anything else fails as the real tool does: "Invalid combination of input arguments. Please run
// 'nvidia-smi -h' for help." on stdout, exit 2; an unknown field: `Field "x" is not a valid field to
// query.`, exit 2; an unknown -i: "No devices were found", exit 6. STATE/gpus.json may also set
// { "failure": { "exitCode": 9, "message": "..." } } to imitate a driver that is not loaded.
"use strict";
const common = require("./common.js");

const INVALID = "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help.\n";

function main(argv) {
  common.recordInvocation("nvidia-smi", argv);
  const inv = common.inventory();
  if (inv.failure) {
    process.stdout.write(inv.failure.message.endsWith("\n") ? inv.failure.message : inv.failure.message + "\n");
    return inv.failure.exitCode;
  }
  const gpus = inv.gpus.map((g, index) => withUsage({ ...g, index }, inv.gpus.length));

  const opts = { query: null, apps: null, format: null, ids: null, list: false, version: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] =
      a.startsWith("--") && a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, null];
    const value = () => (inline !== null ? inline : argv[++i]);
    switch (flag) {
      case "--query-gpu":
        opts.query = value();
        break;
      case "--query-compute-apps":
        opts.apps = value();
        break;
      case "--format":
        opts.format = value();
        break;
      case "-i":
      case "--id":
        opts.ids = value();
        break;
      case "-L":
      case "--list-gpus":
        opts.list = true;
        break;
      case "--version":
        opts.version = true;
        break;
      case "-h":
      case "--help":
        opts.help = true;
        break;
      default:
        process.stdout.write(INVALID);
        return 2;
    }
    if (opts.query === undefined || opts.format === undefined || opts.ids === undefined) {
      process.stdout.write(INVALID);
      return 2;
    }
  }

  if (opts.help) {
    process.stdout.write(
      `NVIDIA System Management Interface -- v${inv.driverVersion}\n\n(test double: see test/hosts/standins/nvidia-smi.js)\n`,
    );
    return 0;
  }
  if (opts.version) {
    process.stdout.write(
      `NVIDIA-SMI version  : ${inv.driverVersion}\nNVML version        : ${inv.driverVersion.split(".")[0]}.${inv.driverVersion.split(".")[1]}\nDRIVER version      : ${inv.driverVersion}\nCUDA Version        : ${inv.cudaVersion}\n`,
    );
    return 0;
  }

  let selected = gpus;
  if (opts.ids !== null) {
    const wanted = opts.ids.split(",");
    selected = [];
    for (const w of wanted) {
      const g = gpus.find((x) => String(x.index) === w || x.uuid === w || x.busId === w);
      if (!g) {
        process.stdout.write("No devices were found\n");
        return 6;
      }
      selected.push(g);
    }
  }

  const querying = opts.query !== null || opts.apps !== null;
  if (opts.list) {
    if (querying || opts.format !== null) {
      process.stdout.write(INVALID);
      return 2;
    }
    for (const g of selected) process.stdout.write(`GPU ${g.index}: ${g.name} (UUID: ${g.uuid})\n`);
    return 0;
  }
  if (querying) {
    if (opts.query !== null && opts.apps !== null) {
      process.stdout.write(INVALID);
      return 2;
    }
    const fmt = (opts.format || "").split(",").map((s) => s.trim());
    if (!fmt.includes("csv") || fmt.some((f) => !["csv", "noheader", "nounits"].includes(f))) {
      process.stdout.write(INVALID);
      return 2;
    }
    const header = !fmt.includes("noheader");
    const units = !fmt.includes("nounits");
    if (opts.apps !== null) return queryApps(opts.apps, header);
    return queryGpus(opts.query, selected, inv, header, units);
  }
  if (opts.format !== null) {
    process.stdout.write(INVALID);
    return 2;
  }
  process.stdout.write(table(selected, inv));
  return 0;
}

function withUsage(g, count) {
  const total = g.memoryTotalMiB;
  let used = g.memoryUsedMiB || 0;
  for (const c of common.listContainers()) {
    if (c.state !== "running") continue;
    if (common.containerDevices(c, count).includes(g.index)) used += common.containerMemoryMiB(c, g);
  }
  used = Math.min(used, total - (g.memoryReservedMiB || 0));
  return {
    ...g,
    uuid: g.uuid || `GPU-${(0x3a6b1c00 + g.index).toString(16)}-2f4e-8c1d-9b7a-${String(g.index).padStart(12, "0")}`,
    busId: g.busId || `00000000:${(0x10 + g.index).toString(16).toUpperCase().padStart(2, "0")}:00.0`,
    memoryUsedMiB: used,
    memoryReservedMiB: g.memoryReservedMiB || 0,
    memoryFreeMiB: total - used - (g.memoryReservedMiB || 0),
    temperatureC: g.temperatureC === undefined ? 34 : g.temperatureC,
    utilizationPct: g.utilizationPct === undefined ? 0 : g.utilizationPct,
  };
}

// canonical name -> [unit in header/values or null, value getter]; aliases map to canonical names
const FIELDS = {
  index: [null, (g) => String(g.index)],
  count: [null, (_g, inv) => String(inv.gpus.length)],
  name: [null, (g) => g.name],
  uuid: [null, (g) => g.uuid],
  "pci.bus_id": [null, (g) => g.busId],
  driver_version: [null, (_g, inv) => inv.driverVersion],
  "memory.total": ["MiB", (g) => String(g.memoryTotalMiB)],
  "memory.reserved": ["MiB", (g) => String(g.memoryReservedMiB)],
  "memory.used": ["MiB", (g) => String(g.memoryUsedMiB)],
  "memory.free": ["MiB", (g) => String(g.memoryFreeMiB)],
  "temperature.gpu": [null, (g) => String(g.temperatureC)],
  "utilization.gpu": ["%", (g) => String(g.utilizationPct)],
  "utilization.memory": ["%", (g) => String(Math.round((100 * g.memoryUsedMiB) / g.memoryTotalMiB))],
  compute_cap: [null, (g) => g.computeCap || "8.0"],
  persistence_mode: [null, () => "Enabled"],
};
const ALIASES = { gpu_name: "name", gpu_uuid: "uuid", gpu_bus_id: "pci.bus_id", compute_cap: "compute_cap" };

function queryGpus(query, gpus, inv, header, units) {
  const names = query.split(",").map((s) => s.trim());
  const cols = [];
  for (const n of names) {
    const canonical = FIELDS[n] ? n : ALIASES[n];
    if (!canonical) {
      process.stdout.write(`Field "${n}" is not a valid field to query.\n\n`);
      return 2;
    }
    cols.push([canonical, ...FIELDS[canonical]]);
  }
  let out = "";
  // the header keeps its [unit] even with nounits, as the real tool prints it
  if (header) out += cols.map(([n, unit]) => (unit ? `${n} [${unit}]` : n)).join(", ") + "\n";
  for (const g of gpus) {
    out += cols.map(([, unit, get]) => get(g, inv) + (units && unit ? ` ${unit}` : "")).join(", ") + "\n";
  }
  process.stdout.write(out);
  return 0;
}

function queryApps(query, header) {
  const names = query.split(",").map((s) => s.trim());
  const known = { pid: null, process_name: null, gpu_uuid: null, used_memory: "MiB", used_gpu_memory: "MiB" };
  for (const n of names) {
    if (!(n in known)) {
      process.stdout.write(`Field "${n}" is not a valid field to query.\n\n`);
      return 2;
    }
  }
  // containers are not real processes; the stand-in reports none
  if (header) process.stdout.write(names.map((n) => (known[n] ? `${n} [${known[n]}]` : n)).join(", ") + "\n");
  return 0;
}

function table(gpus, inv) {
  const line = "+---------------------------------------------------------------------------------------+\n";
  let out = `${new Date().toUTCString()}\n`;
  out += line;
  out += `| NVIDIA-SMI ${inv.driverVersion.padEnd(23)}Driver Version: ${inv.driverVersion.padEnd(13)}CUDA Version: ${inv.cudaVersion.padEnd(9)}|\n`;
  out += "|-----------------------------------------+----------------------+----------------------+\n";
  out += "| GPU  Name                 Persistence-M | Bus-Id        Disp.A | Volatile Uncorr. ECC |\n";
  out += "| Fan  Temp   Perf          Pwr:Usage/Cap |         Memory-Usage | GPU-Util  Compute M. |\n";
  out += "|=========================================+======================+======================|\n";
  // three cells of 41, 22 and 22 characters between "|", as the 535 driver's table
  const row = (a, b, c) =>
    `|${a.padEnd(41).slice(0, 41)}|${b.padStart(22).slice(0, 22)}|${c.padStart(22).slice(0, 22)}|\n`;
  for (const g of gpus) {
    out += row(` ${String(g.index).padStart(3)}  ${g.name.padEnd(25).slice(0, 25)}     On`, `${g.busId} Off `, "0 ");
    out += row(
      ` N/A   ${String(g.temperatureC).padStart(2)}C    P0              60W / 400W`,
      `${g.memoryUsedMiB}MiB / ${g.memoryTotalMiB}MiB `,
      `${(g.utilizationPct + "%").padStart(4)}      Default `,
    );
    out += "+-----------------------------------------+----------------------+----------------------+\n";
  }
  return out;
}

process.exitCode = main(process.argv.slice(2));
