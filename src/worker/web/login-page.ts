/** The login form the page shows when a token is required; `failed` adds the line that says the token was wrong. */
export function loginPage(failed: boolean): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>aiomonitor: log in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/style.css"></head>
<body class="login"><main>
<h1>aiomonitor</h1>
<form method="post" action="/login">
<label for="token">This monitor needs its token (MONITOR_TOKEN)</label>
<input id="token" name="token" type="password" autocomplete="current-password" autofocus required>
<button type="submit">Log in</button>
${failed ? '<p class="error" role="alert">✗ wrong token; give the one the app was started with</p>' : ''}
</form></main></body></html>
`;
}
