/** The page every dashboard route leads to without a session, and the page of a refused request. */
import { Layout } from "../layout.tsx";

export function LoginPage(props: { message?: string }) {
  return (
    <Layout title="Log in">
      <h1>Log in to the dashboard</h1>
      {props.message ? <div class="alert" role="alert">{props.message}</div> : null}
      <p>The dashboard opens with a one-time login link. In a terminal on this machine, run:</p>
      <pre>vilano ui --open</pre>
      <p class="muted">It prints a link that works once and for five minutes; opening it logs this browser in for 12 hours.</p>
    </Layout>
  );
}

export function ProblemPage(props: { title: string; message: string }) {
  return (
    <Layout title={props.title}>
      <h1>{props.title}</h1>
      <div class="alert" role="alert">{props.message}</div>
    </Layout>
  );
}
