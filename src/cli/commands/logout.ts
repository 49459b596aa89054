// berth logout: the credentials kept for a registry forgotten (context/credentials.ts), under its
// host and the http:// and https:// spellings of it, as docker erases them.
import { eraseCredentials, INDEX_SERVER } from "../context/credentials.ts";
import type { Command } from "./command.ts";
import { loginServer } from "./login.ts";

const command: Command = {
  usage: "logout [SERVER]",
  summary: "Log out from a registry",
  flags: [],
  args: { max: 1 },
  async run(io, p) {
    const server = loginServer(p.args[0]);
    const keys = server === INDEX_SERVER ? [server] : [server, `http://${server}`, `https://${server}`];
    io.out.write(`Removing login credentials for ${server}\n`);
    const { failed, present } = await eraseCredentials(io.context.configDir, io.context.config, keys, process.env);
    if (present > 0 && failed.size === present) {
      let text = "WARNING: could not erase credentials:\n";
      for (const [k, e] of failed) text += `${k}: ${e.message}\n`;
      io.err.write(text);
    }
  },
};
export default command;
