using System.Text;

// The benchmarks' ceiling: Kestrel answering every request with a tiny 200, with no middleware, no routing and no
// configuration watcher in front of it. A request rate against this is what the loopback, the load generator and
// Kestrel allow on the machine at that moment; the other servers' rates are read as fractions of it.
var body = Encoding.ASCII.GetBytes("ok");

using var host = Host.CreateDefaultBuilder([.. args, "--hostBuilder:reloadConfigOnChange=false"])
    // ConfigureWebHost, unlike ConfigureWebHostDefaults, adds no startup filters (host filtering, forwarded headers):
    // the pipeline is the one terminal delegate below. The listening address comes from ASPNETCORE_URLS.
    .ConfigureWebHost(web => web
        .UseKestrel()
        .Configure(app => app.Run(context =>
        {
            context.Response.ContentType = "text/plain";
            context.Response.ContentLength = body.Length;
            return context.Response.Body.WriteAsync(body, context.RequestAborted).AsTask();
        })))
    .Build();
await host.RunAsync();
