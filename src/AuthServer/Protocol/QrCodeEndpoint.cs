using AuthServer.DeviceFlow;
using AuthServer.Hosting;
using QRCoder;

namespace AuthServer.Protocol;

/// <summary>
/// <c>GET /device/qr?user_code=…&amp;format=png|svg</c>: the QR code of <c>verification_uri_complete</c> (RFC 8628
/// §3.3.1), for waiting screens that cannot draw one themselves.
/// </summary>
/// <remarks>
/// The image is a pure function of a well-formed user code: the request is not looked up. Answering differently for a
/// live code would tell anyone, without signing in, which codes are live (the very oracle §5.1 limits), and counting
/// the fetches against the guessing limit would let the screens behind one address use up each other's budget.
/// </remarks>
public static class QrCodeEndpoint
{
    public const string Path = "/device/qr";
    private const int PixelsPerModule = 8;

    public static IResult Handle(HttpContext context, string? user_code, string? format, IssuerResolver issuers)
    {
        format ??= "png";
        if (format is not ("png" or "svg"))
            return TypedResults.Problem(statusCode: 400, title: "Unsupported format", detail: "format must be png or svg.");

        if (!UserCode.TryNormalize(user_code, out var normalized))
            return TypedResults.Problem(statusCode: 400, title: "Malformed user code",
                detail: $"user_code must be {UserCode.Length} characters of {UserCode.Alphabet}, dashes and spaces aside.");

        var payload = VerificationUri.Complete(issuers.Resolve(context.Request), normalized);
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(payload, QRCodeGenerator.ECCLevel.M);
        // The URL carries a user code: keep the image out of shared caches.
        context.Response.Headers.CacheControl = "no-store";
        return format == "svg"
            ? TypedResults.Text(new SvgQRCode(data).GetGraphic(PixelsPerModule), "image/svg+xml")
            : TypedResults.File(new PngByteQRCode(data).GetGraphic(PixelsPerModule), "image/png");
    }
}
