using AuthServer.DeviceFlow;
using AuthServer.Hosting;
using QRCoder;

namespace AuthServer.Protocol;

/// <summary>
/// <c>GET /device/qr?user_code=…&amp;format=png|svg</c>: the QR code of <c>verification_uri_complete</c> for a live
/// request (RFC 8628 §3.3.1), for waiting screens that cannot draw one themselves.
/// </summary>
public static class QrCodeEndpoint
{
    public const string Path = "/device/qr";
    private const int PixelsPerModule = 8;

    public static async Task<IResult> HandleAsync(
        HttpContext context, string? user_code, string? format, DeviceFlowService flow, GuessLimiter guesses, IssuerResolver issuers, TimeProvider clock)
    {
        // Live or not is an answer about a user code: it counts as a guess.
        if (guesses.TryAcquire(context, userId: null) is { } retryAfter)
        {
            GuessLimiter.SetRetryAfter(context.Response, retryAfter);
            return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many attempts",
                detail: "Too many codes were tried. Wait a minute, then try again.");
        }

        format ??= "png";
        if (format is not ("png" or "svg"))
            return TypedResults.Problem(statusCode: 400, title: "Unsupported format", detail: "format must be png or svg.");

        if (!UserCode.TryNormalize(user_code, out var normalized)
            || await flow.FindByUserCodeAsync(normalized, context.RequestAborted) is not { } state
            || !state.IsOpen(clock.GetUtcNow()))
            return TypedResults.Problem(statusCode: 404, title: "No such login request", detail: "The code is unknown, used or expired.");

        var payload = VerificationUri.Complete(issuers.Resolve(context.Request), normalized);
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(payload, QRCodeGenerator.ECCLevel.M);
        context.Response.Headers.CacheControl = "no-store";
        return format == "svg"
            ? TypedResults.Text(new SvgQRCode(data).GetGraphic(PixelsPerModule), "image/svg+xml")
            : TypedResults.File(new PngByteQRCode(data).GetGraphic(PixelsPerModule), "image/png");
    }
}
