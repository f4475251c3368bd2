using System.ComponentModel.DataAnnotations;
using AuthServer.Protocol;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace AuthServer.Hosting;

/// <summary>The endpoint classes that have limits of their own (<see cref="RequestLimits.ClassOf"/>).</summary>
public enum RequestClass { Protocol, Api, Pages, Admin, Static }

/// <summary>The <c>RequestLimits</c> configuration section: a body and a header cap per endpoint class.</summary>
public sealed class RequestLimitOptions
{
    public const string Section = "RequestLimits";

    /// <summary>
    /// <c>/connect/*</c>, <c>/.well-known/*</c>, <c>/device/qr</c>: small forms (RFC 6749 §3.2, RFC 8628 §3.1). The
    /// largest legitimate one is a refresh grant with a Data Protection refresh token of about 1,500 characters.
    /// </summary>
    public RequestLimit Protocol { get; set; } = new() { MaxBodyBytes = 16 * 1024, MaxHeaderBytes = 16 * 1024 };

    /// <summary><c>/api/*</c> (the phone API) and <c>/account/qr-signin</c>: small JSON bodies.</summary>
    public RequestLimit Api { get; set; } = new() { MaxBodyBytes = 64 * 1024, MaxHeaderBytes = 16 * 1024 };

    /// <summary>The pages people use (sign-in, consent, verification, linked devices); their cookies count in the headers.</summary>
    public RequestLimit Pages { get; set; } = new() { MaxBodyBytes = 64 * 1024, MaxHeaderBytes = 32 * 1024 };

    /// <summary><c>/admin/*</c>: a client's form may list many redirect URIs and origins.</summary>
    public RequestLimit Admin { get; set; } = new() { MaxBodyBytes = 256 * 1024, MaxHeaderBytes = 32 * 1024 };

    /// <summary>Static files, health and metrics: read with GET, so no body at all.</summary>
    public RequestLimit Static { get; set; } = new() { MaxBodyBytes = 0, MaxHeaderBytes = 32 * 1024 };

    public RequestLimit For(RequestClass kind) => kind switch
    {
        RequestClass.Protocol => Protocol,
        RequestClass.Api => Api,
        RequestClass.Pages => Pages,
        RequestClass.Admin => Admin,
        _ => Static,
    };

    public IEnumerable<RequestLimit> All => [Protocol, Api, Pages, Admin, Static];
}

public sealed class RequestLimit
{
    /// <summary>The most a body may hold, in bytes, whether it comes with a <c>Content-Length</c> or chunked.</summary>
    [Range(0, 64 * 1024 * 1024)] public long MaxBodyBytes { get; set; }

    /// <summary>
    /// The most the request's header fields may hold, in bytes: each name and value, plus the four bytes of
    /// <c>": "</c> and the line end, as they were sent (cookies included).
    /// </summary>
    [Range(4 * 1024, 1024 * 1024)] public int MaxHeaderBytes { get; set; }
}

/// <summary>
/// Caps what a request may send before any of its work is done. Kestrel enforces the largest caps of all classes on
/// every connection, so nothing larger is ever buffered. This middleware, after the error handlers (a body that is not
/// valid chunked encoding is the client's mistake and answers 400 there), applies the request's own class: a
/// <c>Content-Length</c> over the cap is refused before a byte of the body is read, a chunked body is read up to one
/// byte past the cap and refused there, and the headers are counted. The refusal is 413 (431 for headers, RFC 6585
/// §5) in the caller's format: the RFC 6749 §5.2 <c>invalid_request</c> on protocol endpoints, a page for browsers,
/// RFC 9457 problem details otherwise; the connection is then closed rather than drained.
/// </summary>
public static class RequestLimits
{
    public static WebApplicationBuilder AddRequestLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<RequestLimitOptions>().BindConfiguration(RequestLimitOptions.Section)
            .Validate(o => o.All.All(l => Validator.TryValidateObject(l, new ValidationContext(l), null, validateAllProperties: true)),
                "RequestLimits: each MaxBodyBytes must be 0 to 67108864 and each MaxHeaderBytes 4096 to 1048576.")
            .ValidateOnStart();
        builder.Services.AddOptions<KestrelServerOptions>().Configure<IOptions<RequestLimitOptions>>((kestrel, limits) =>
        {
            kestrel.Limits.MaxRequestBodySize = limits.Value.All.Max(l => l.MaxBodyBytes);
            kestrel.Limits.MaxRequestHeadersTotalSize = limits.Value.All.Max(l => l.MaxHeaderBytes);
        });
        return builder;
    }

    public static WebApplication UseRequestLimits(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<RequestLimitOptions>>().Value;
        app.Use((context, next) => CheckAsync(context, next, options));
        return app;
    }

    /// <summary>The class a path belongs to.</summary>
    public static RequestClass ClassOf(PathString path)
    {
        if (path.StartsWithSegments("/connect") || path.StartsWithSegments("/.well-known") || path.StartsWithSegments(QrCodeEndpoint.Path))
            return RequestClass.Protocol;
        if (path.StartsWithSegments(Phone.PhoneApi.Prefix) || path.StartsWithSegments(WebSignIn.SessionEndpoint.Path))
            return RequestClass.Api;
        if (path.StartsWithSegments("/admin")) return RequestClass.Admin;
        if (path.StartsWithSegments("/health") || path.StartsWithSegments("/metrics") || path.StartsWithSegments("/swagger")
            || System.IO.Path.HasExtension(path.Value))
            return RequestClass.Static;
        return RequestClass.Pages;
    }

    private static async Task CheckAsync(HttpContext context, RequestDelegate next, RequestLimitOptions options)
    {
        var request = context.Request;
        var limit = options.For(ClassOf(request.Path));

        if (HeaderBytes(request.Headers) > limit.MaxHeaderBytes)
        {
            await RefuseAsync(context, StatusCodes.Status431RequestHeaderFieldsTooLarge,
                $"The request's header fields are larger than this endpoint accepts ({limit.MaxHeaderBytes} bytes).");
            return;
        }

        // Kestrel's own check too, which also holds for a body an endpoint reads later.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
            bodySize.MaxRequestBodySize = limit.MaxBodyBytes;

        if (request.ContentLength is { } length)
        {
            if (length > limit.MaxBodyBytes)
            {
                await RefuseAsync(context, StatusCodes.Status413PayloadTooLarge, TooLarge(limit));
                return;
            }
        }
        else if (request.Headers.TransferEncoding.Count > 0
            || context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: true })
        {
            // A chunked body says its size only at its end: read it here, at most one byte past the cap, so no
            // endpoint starts on a body that turns out too large.
            var body = new MemoryStream();
            var chunk = System.Buffers.ArrayPool<byte>.Shared.Rent(4096);
            try
            {
                int got;
                while (body.Length <= limit.MaxBodyBytes && (got = await request.Body.ReadAsync(
                    chunk.AsMemory(0, (int)Math.Min(chunk.Length, limit.MaxBodyBytes + 1 - body.Length)), context.RequestAborted)) > 0)
                    body.Write(chunk, 0, got);
            }
            catch (Microsoft.AspNetCore.Http.BadHttpRequestException tooLarge) when (tooLarge.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                // Kestrel counts the chunk it holds, which may pass the cap before this loop has read that far.
                body.SetLength(limit.MaxBodyBytes + 1);
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(chunk);
            }
            if (body.Length > limit.MaxBodyBytes)
            {
                await RefuseAsync(context, StatusCodes.Status413PayloadTooLarge, TooLarge(limit));
                return;
            }
            body.Position = 0;
            request.Body = body;
        }

        await next(context);
    }

    private static string TooLarge(RequestLimit limit) =>
        $"The request body is larger than this endpoint accepts ({limit.MaxBodyBytes} bytes).";

    private static long HeaderBytes(IHeaderDictionary headers)
    {
        long total = 0;
        foreach (var (name, values) in headers)
        {
            foreach (var value in values) total += name.Length + 4 + (value?.Length ?? 0);
        }
        return total;
    }

    private static async Task RefuseAsync(HttpContext context, int status, string description)
    {
        var response = context.Response;
        // The unread rest of the body is not worth draining: close the connection after this answer.
        response.Headers.Connection = "close";
        switch (ErrorPage.DoorOf(context.Request))
        {
            case ErrorPage.Door.OAuth:
                await new OAuthError("invalid_request", description, status).ExecuteAsync(context);
                return;
            case ErrorPage.Door.Page:
                await ErrorPage.WriteAsync(context, status, "That request was too large",
                    "What your browser sent was larger than this page accepts. Nothing was changed; go back and try again.");
                return;
        }
        await TypedResults.Problem(statusCode: status, title: "The request is too large.", detail: description).ExecuteAsync(context);
    }
}
