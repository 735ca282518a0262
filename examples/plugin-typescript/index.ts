import * as pulumi from "@pulumi/pulumi";
import * as fc from "@pulumi/fc-invocation";

const config = new pulumi.Config();
const functionName = config.get("function") ?? "migrate";
const taskId = config.require("task");

// The gate: `pulumi up` waits here until the task ends and fails if it fails; preview never waits.
const migration = new fc.AsyncTask("migration", {
    functionName,
    taskId,
    waitForCompletion: config.getBoolean("wait") ?? true,
    timeoutSeconds: 1800,
}, { customTimeouts: { create: "45m" } });

// Stands in for the release: anything that depends on the gate deploys only after it passes.
const release = new fc.AsyncTask("release", { functionName, taskId }, { dependsOn: [migration] });

// A function reads the task as it is now (it never waits); failOnStatuses [] never fails. Its result is
// secret as a whole when a payload is (Node.js invokeOutput): the status alone is taken out of the secret,
// the payloads of `now` stay secret.
const now = fc.getAsyncTaskOutput({ functionName, taskId, failOnStatuses: [] });

export const status = migration.status;
export const result = migration.returnPayload;
export const readNow = pulumi.unsecret(now.status);
export const releaseId = release.id;
