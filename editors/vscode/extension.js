// Starts `carepath lsp` for .carepath files. Everything the editor shows
// (diagnostics, hover, definitions, completion, rename, the outline) comes
// from the server; this file only connects the two.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("carepath").get("server.path") || "carepath";
  const serverOptions = {
    command,
    args: ["lsp"],
    transport: TransportKind.stdio,
  };
  const clientOptions = {
    documentSelector: [{ scheme: "file", language: "carepath" }],
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher("**/*.carepath"),
    },
  };
  client = new LanguageClient("carepath", "Carepath", serverOptions, clientOptions);
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
