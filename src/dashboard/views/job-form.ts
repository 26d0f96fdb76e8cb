import { api, errorCode, errorText, isUnauthorized, type JobTypeView, type JobView } from "../api.ts";
import { h, setText } from "../dom.ts";
import { fieldErrors } from "../field-errors.ts";
import { livePreview, PREVIEW_TIMES } from "../schedule-preview.ts";
import { openDialog } from "./dialog.ts";

const FIELDS = [
  "name", "jobType", "userId", "schedule", "runAt", "intervalMinutes", "cron", "timezone", "httpUrl", "httpMethod", "payload", "timeoutSeconds", "maxAttempts",
  "catchUp", "startDeadlineSeconds", "jitterSeconds", "endsAt", "maxRuns", "isActive",
] as const;
type Field = (typeof FIELDS)[number];
type Kind = "once" | "interval" | "cron";
/** The fields the live preview checks as they are typed. */
const SCHEDULE_FIELDS: readonly Field[] = ["schedule", "runAt", "intervalMinutes", "cron", "timezone"];

interface FormOptions {
  /** The job to edit; none: a new job. */
  job?: JobView | undefined;
  jobTypes: JobTypeView[];
  onSaved(job: JobView): void;
  unauthorized(): void;
}

/** `datetime-local` value (the browser's zone) of an ISO time, and back. */
const toLocalInput = (iso: string | null) => {
  if (!iso) return "";
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};
const fromLocalInput = (value: string) => (value ? new Date(value).toISOString() : null);
const localZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

const HTTP_METHODS = ["POST", "GET", "PUT", "PATCH", "DELETE"];
/** An `http` job's payload: its URL and method have fields of their own, the rest stays JSON. */
const splitHttpPayload = (payload: unknown) => {
  const { url, method, ...rest } = payload !== null && typeof payload === "object" && !Array.isArray(payload) ? payload as Record<string, unknown> : {};
  return { url: typeof url === "string" ? url : "", method: typeof method === "string" ? method : "POST", rest };
};
/** The server names `payload.url` and `payload.method`; those messages go next to their own fields. */
/** An `http` job's payload fields have fields of their own in the form. */
const HTTP_FIELDS = { "payload.url": "httpUrl", "payload.method": "httpMethod" } as const;

/**
 * Creates or edits a job. The schedule is checked as it is typed (its words, its next start
 * times, or its error next to the field at once); everything else is checked by the server,
 * whose messages are shown next to the fields they name.
 */
export function openJobForm({ job, jobTypes, onSaved, unauthorized }: FormOptions): void {
  const errors = new Map<Field | "", HTMLElement>();
  const inputs = new Map<Field, HTMLElement>();
  const errorEl = (field: Field | "") => {
    const el = h("p", { class: "field-error", id: `job-form-error-${field || "form"}`, "data-error-for": field || "form" });
    errors.set(field, el);
    return el;
  };
  const field = (name: Field, label: string, input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, hint?: string | Node) => {
    input.id = `job-form-${name}`;
    input.name = name;
    input.setAttribute("aria-describedby", `job-form-error-${name}${hint ? ` job-form-hint-${name}` : ""}`);
    inputs.set(name, input);
    return h("div", { class: `field field-${name}` }, h("label", { for: input.id }, label), input,
      hint ? h("p", { class: "hint", id: `job-form-hint-${name}` }, hint) : null, errorEl(name));
  };

  const kind: Kind = job?.cron ? "cron" : job?.intervalMinutes ? "interval" : job ? "once" : "interval";
  const name = h("input", { type: "text", value: job?.name ?? "", autocomplete: "off", spellcheck: "false" });
  // A required choice among the registered types (a job whose type is no longer registered shows it, marked).
  const unregistered = job && !jobTypes.some((t) => t.type === job.jobType) ? [job.jobType] : [];
  const jobType = h("select", { required: true },
    h("option", { value: "", disabled: true, selected: !job }, "Choose a job type…"),
    jobTypes.map((t) => h("option", { value: t.type, selected: job?.jobType === t.type }, t.type)),
    unregistered.map((type) => h("option", { value: type, selected: true }, `${type} (not registered)`)));
  const typeHint = h("span", {}, "");
  const userId = h("input", { type: "number", inputmode: "numeric", value: job?.userId ?? "" });
  const runAt = h("input", { type: "datetime-local", value: toLocalInput(job?.runAt ?? null) });
  const intervalMinutes = h("input", { type: "number", inputmode: "numeric", value: job?.intervalMinutes ?? (job ? "" : "60") });
  const cron = h("input", { type: "text", value: job?.cron ?? "", placeholder: "0 3 * * *", spellcheck: "false", autocomplete: "off" });
  const timezone = h("input", { type: "text", value: job?.timezone ?? "", placeholder: "UTC", list: "job-form-zones", spellcheck: "false", autocomplete: "off" });
  const zones = h("datalist", { id: "job-form-zones" }, (Intl.supportedValuesOf?.("timeZone") ?? []).map((z) => h("option", { value: z })));
  const editsHttp = job?.jobType === "http";
  const httpPayload = splitHttpPayload(editsHttp ? job.payload : null);
  const shownPayload = editsHttp ? (Object.keys(httpPayload.rest).length > 0 ? httpPayload.rest : null) : job?.payload ?? null;
  const payload = h("textarea", { rows: 3, spellcheck: "false", placeholder: "{ }" }, shownPayload !== null ? JSON.stringify(shownPayload, null, 2) : "");
  const httpUrl = h("input", { type: "url", value: httpPayload.url, placeholder: "https://app.example.com/cron/send-digest", spellcheck: "false", autocomplete: "off" });
  const httpMethod = h("select", {}, HTTP_METHODS.map((m) => h("option", { value: m, selected: m === httpPayload.method }, m)));
  const timeoutSeconds = h("input", { type: "number", inputmode: "numeric", value: job?.timeoutSeconds ?? "", placeholder: "60" });
  const maxAttempts = h("input", { type: "number", inputmode: "numeric", value: job?.maxAttempts ?? "", placeholder: "5" });
  const isActive = h("input", { type: "checkbox", checked: job ? job.isActive : true });
  // Schedule policies (SPEC §5.3.1): empty means none (jitter: 0).
  const catchUp = h("select", {}, (["once", "skip", "all"] as const).map((c) => h("option", { value: c, selected: (job?.catchUp ?? "once") === c },
    { once: "Run once for all missed slots", skip: "Skip missed slots", all: "Run each missed slot (at most 100)" }[c])));
  const startDeadlineSeconds = h("input", { type: "number", inputmode: "numeric", min: "1", value: job?.startDeadlineSeconds ?? "", placeholder: "none" });
  const jitterSeconds = h("input", { type: "number", inputmode: "numeric", min: "0", value: job?.jitterSeconds || "", placeholder: "0" });
  const endsAt = h("input", { type: "datetime-local", value: toLocalInput(job?.endsAt ?? null) });
  const maxRuns = h("input", { type: "number", inputmode: "numeric", min: "1", value: job?.maxRuns ?? "", placeholder: "no limit" });
  const preview = h("p", { class: "schedule-preview", "aria-live": "polite" });
  const nextStarts = h("div", { class: "schedule-next" });

  const kinds = h("div", { class: "segmented", role: "radiogroup", "aria-label": "Schedule" },
    (["once", "interval", "cron"] as Kind[]).map((k) => h("label", {},
      h("input", { type: "radio", name: "kind", value: k, checked: k === kind }), { once: "Once", interval: "Every N minutes", cron: "Cron" }[k])));
  const currentKind = () => (kinds.querySelector<HTMLInputElement>("input:checked")?.value ?? "once") as Kind;
  const runAtLabel = h("span", {}, "");
  const runAtField = field("runAt", "", runAt, `Your time zone: ${localZone}`);
  runAtField.querySelector("label")!.replaceChildren(runAtLabel);
  const intervalField = field("intervalMinutes", "Every (minutes)", intervalMinutes);
  const cronField = field("cron", "Cron expression", cron, "minute hour day month weekday");
  const zoneField = field("timezone", "Time zone of the cron expression", timezone);
  const httpFields = h("div", { class: "grid-2 http-fields" },
    field("httpUrl", "URL to call", httpUrl, "Each request is signed with JOB_SIGNING_SECRET (X-Cronjobs-Signature)."),
    field("httpMethod", "Method", httpMethod));
  const payloadField = field("payload", "", payload);
  const payloadLabel = payloadField.querySelector("label")!;
  const isHttp = () => jobType.value === "http";

  const sync = () => {
    const k = currentKind();
    intervalField.hidden = k !== "interval";
    cronField.hidden = zoneField.hidden = k !== "cron";
    runAtLabel.textContent = k === "once" ? "Run at" : k === "interval" ? "First run at (optional)" : "Not before (optional)";
    httpFields.hidden = !isHttp();
    payloadLabel.textContent = isHttp() ? "Other payload fields (JSON: headers, body; optional)" : "Payload (JSON, optional)";
    const type = jobTypes.find((t) => t.type === jobType.value);
    typeHint.textContent = type ? type.description : jobType.value ? "This type is not registered on the server." : "The code this job runs.";
    showPreview(k);
  };
  /** Words and next start times of the schedule as typed, or its error next to its field at once; nothing while it is empty. */
  const showPreview = (k: Kind) => {
    const live = livePreview({ kind: k, ...scheduleOf(k) }, Date.now(), localZone);
    setText(preview, live.state === "ok" ? live.words : "");
    nextStarts.replaceChildren(...(live.state !== "ok" ? []
      : live.times.length === 0 ? [h("p", { class: "hint" }, "No start time left.")]
      : [h("ol", { class: "next-starts", "aria-label": `Next ${PREVIEW_TIMES} start times` },
          live.times.map((t) => h("li", {}, h("time", { datetime: t.iso }, t.text), h("span", { class: "zone" }, ` ${t.zone}`))))]));
    for (const f of SCHEDULE_FIELDS) setError(f, live.state === "error" && live.field === f ? live.message : "");
  };
  const setError = (f: Field | "", text: string) => {
    const el = errors.get(f);
    if (el && el.textContent !== text) el.textContent = text;
    if (f) inputs.get(f)?.setAttribute("aria-invalid", String(Boolean(text)));
  };
  const scheduleOf = (k: Kind) => ({
    runAt: fromLocalInput(runAt.value),
    intervalMinutes: k === "interval" && intervalMinutes.value !== "" ? Number(intervalMinutes.value) : null,
    cron: k === "cron" && cron.value.trim() ? cron.value.trim() : null,
    timezone: k === "cron" && timezone.value.trim() ? timezone.value.trim() : null,
  });

  const submit = h("button", { type: "submit", class: "btn primary" }, job ? "Save changes" : "Create job");
  const form = h("form", { class: "job-form", novalidate: true },
    errorEl(""),
    h("div", { class: "grid-2" },
      field("name", "Name", name),
      field("jobType", "Job type", jobType, typeHint)),
    h("fieldset", { class: "schedule" }, h("legend", {}, "Schedule"), kinds, errorEl("schedule"), intervalField,
      h("div", { class: "grid-2" }, cronField, zoneField), runAtField, zones, preview, nextStarts),
    h("div", { class: "grid-3" },
      field("userId", "User id (optional)", userId),
      field("timeoutSeconds", "Timeout (seconds)", timeoutSeconds),
      field("maxAttempts", "Max attempts", maxAttempts)),
    h("details", { class: "policies", open: Boolean(job && (job.catchUp !== "once" || job.startDeadlineSeconds !== null || job.jitterSeconds > 0 || job.endsAt || job.maxRuns !== null)) },
      h("summary", {}, "Missed runs, jitter and end"),
      h("div", { class: "grid-2" },
        field("catchUp", "Missed slots (catch-up)", catchUp, "What a recurring job does with slots missed while nothing ran."),
        field("startDeadlineSeconds", "Start deadline (seconds)", startDeadlineSeconds, "A run later than this is skipped, not started.")),
      h("div", { class: "grid-3" },
        field("jitterSeconds", "Jitter (seconds)", jitterSeconds, "Each slot moves later by up to this, the same for a job and slot."),
        field("endsAt", "Ends at (optional)", endsAt, `No run at or after it. Your time zone: ${localZone}`),
        field("maxRuns", "Max runs (optional)", maxRuns, job ? `Runs so far: ${job.runCount}` : "Finished after this many runs."))),
    httpFields,
    payloadField,
    h("label", { class: "checkbox" }, isActive, " Active (runs when due)"),
    errorEl("isActive"),
    h("div", { class: "dialog-actions" }, h("button", { type: "button", class: "btn", onclick: () => close() }, "Cancel"), submit));
  form.addEventListener("input", sync);
  form.addEventListener("change", sync);
  sync();

  const showErrors = (messages: Map<string, string>) => {
    for (const f of errors.keys()) setError(f, messages.get(f) ?? "");
    const first = FIELDS.find((f) => messages.has(f));
    (first ? inputs.get(first) ?? errors.get(first) : null)?.focus();
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let parsedPayload: unknown = null;
    if (payload.value.trim()) {
      try {
        parsedPayload = JSON.parse(payload.value);
      } catch (err) {
        return showErrors(new Map([["payload", `not valid JSON (${(err as Error).message})`]]));
      }
    }
    if (isHttp()) {
      if (parsedPayload !== null && (typeof parsedPayload !== "object" || Array.isArray(parsedPayload))) {
        return showErrors(new Map([["payload", "must be a JSON object (e.g. { \"headers\": { … }, \"body\": … })"]]));
      }
      parsedPayload = { ...(parsedPayload as Record<string, unknown> | null), url: httpUrl.value.trim(), method: httpMethod.value };
    }
    if (!jobType.value) return showErrors(new Map([["jobType", "choose a job type"]]));
    const num = (el: HTMLInputElement) => (el.value === "" ? undefined : Number(el.value));
    const values = {
      name: name.value,
      jobType: jobType.value,
      userId: num(userId) ?? null,
      ...scheduleOf(currentKind()),
      payload: parsedPayload as never,
      timeoutSeconds: num(timeoutSeconds),
      maxAttempts: num(maxAttempts),
      catchUp: catchUp.value as JobView["catchUp"],
      startDeadlineSeconds: num(startDeadlineSeconds) ?? null,
      jitterSeconds: num(jitterSeconds) ?? 0,
      endsAt: fromLocalInput(endsAt.value),
      maxRuns: num(maxRuns) ?? null,
      isActive: isActive.checked,
    };
    submit.disabled = true;
    submit.textContent = job ? "Saving…" : "Creating…";
    try {
      const saved = job ? await api.jobs.update.mutate({ id: job.id, ...values })
        : await api.jobs.create.mutate(values);
      close();
      onSaved(saved);
    } catch (err) {
      if (isUnauthorized(err)) { close(); return unauthorized(); }
      const messages = errorCode(err) === "BAD_REQUEST" ? fieldErrors(err, FIELDS, isHttp() ? HTTP_FIELDS : {}) : new Map([[errorCode(err) === "CONFLICT" && !job ? "name" : "", errorText(err)]]);
      showErrors(messages);
    } finally {
      submit.disabled = false;
      submit.textContent = job ? "Save changes" : "Create job";
    }
  });

  const { close } = openDialog(job ? `Edit “${job.name}”` : "New job", [form], { wide: true });
  name.focus();
}
