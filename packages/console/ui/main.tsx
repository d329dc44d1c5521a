// Entry point: the API lives one level above /console/, wherever the broker is mounted.
import { render } from "preact";
import { createApi } from "./api.js";
import { App } from "./app.js";
import "./styles.css";

const api = createApi({ baseUrl: new URL("../", location.href.split("#")[0]).href });
render(<App api={api} />, document.getElementById("app")!);
