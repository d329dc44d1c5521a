// Entry point: the API lives one level above /console/, wherever the broker is mounted.
import { render } from "preact";
import { createApi } from "./api.js";
import { App } from "./app.js";
import "./styles.css";

// A broker with `auth` wants a bearer token: asked for at its first 401, kept for this tab only.
const TOKEN = "minikafka.token";
const authorization = () => {
  const token = sessionStorage.getItem(TOKEN);
  return token === null ? null : `Bearer ${token}`;
};
const api = createApi({
  baseUrl: new URL("../", location.href.split("#")[0]).href,
  headers: (): Record<string, string> => {
    const value = authorization();
    return value === null ? {} : { authorization: value };
  },
  onUnauthorized: (sent) => {
    if (authorization() !== sent) return true; // another call got a new token meanwhile
    const token = prompt("This broker needs a bearer token:")?.trim();
    if (!token) return false;
    sessionStorage.setItem(TOKEN, token);
    return true;
  },
});
render(<App api={api} />, document.getElementById("app")!);
