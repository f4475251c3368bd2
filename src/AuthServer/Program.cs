using AuthServer.Hosting;
using AuthServer.Phone;
using AuthServer.Protocol;
using AuthServer.WebSignIn;

// Configuration is read once at start-up: a watcher on the content root would wake on every SQLite commit there.
var builder = WebApplication.CreateBuilder([.. args, "--hostBuilder:reloadConfigOnChange=false"]);
builder.AddAuthServer();                        // options, storage, identity, protocol services
builder.AddTelemetry();                         // health checks, metrics, traces, JSON logs, correlation ids, 503 on outages

var app = builder.Build();
if (await AdminCommands.TryRunAsync(app, args)) return;   // hash-secret, rotate-keys, create-admin
await app.InitializeAuthServerAsync();          // schema, configured clients, signing keys, demo user

app.UseAuthServer();                            // forwarded headers, errors, security headers, sign-in
app.MapProtocolEndpoints();                     // /.well-known/*, /connect/*, /device/qr
app.MapPhoneApi();                              // /api/phone/* for the signed-in phone app
app.MapWebSignIn();                             // /account/qr-signin: a phone's approval becomes this browser's session
app.MapPhoneWebApp();                           // /phone/: the phone web app (static files in wwwroot/phone)
app.MapSwagger();                               // /swagger/phone/swagger.json (an endpoint: no middleware on every request)
app.MapRazorPages();                            // /, /device, /consent, /account/devices and the Identity pages
app.MapHealthEndpoints();                       // /health/live, /health/ready
app.MapMetrics();                               // /metrics (Prometheus text), when Telemetry:Prometheus:Enabled
app.Run();

public partial class Program;
