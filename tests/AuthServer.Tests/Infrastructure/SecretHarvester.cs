using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace AuthServer.Tests.Infrastructure;

/// <summary>
/// Collects, at the edge of the test server, every secret that crosses it: the bearer and DPoP headers, cookies,
/// the secret fields of forms and JSON bodies (passwords, client secrets, codes, verifiers, tokens, confirm tickets),
/// the tokens and codes of JSON answers, the code of a redirect and every cookie set. Tests then check that none of
/// them reached a log. It runs before the server's own pipeline (a startup filter), so it sees what the server sees.
/// </summary>
public sealed class SecretHarvester : IStartupFilter
{
    private static readonly HashSet<string> SecretFields = new(StringComparer.Ordinal)
    {
        "password", "Input.Password", "client_secret", "code", "code_verifier", "device_code", "refresh_token", "access_token",
        "id_token", "token", "confirm_ticket", "__RequestVerificationToken", "client_assertion", "id_token_hint",
    };

    private readonly ConcurrentDictionary<string, string> _secrets = new(StringComparer.Ordinal);

    /// <summary>Each secret seen, with the kind it was first seen as (a refresh token sent back is still a refresh_token).</summary>
    public IReadOnlyDictionary<string, string> Secrets => _secrets;

    public IEnumerable<string> Kinds => _secrets.Values.Distinct();

    private void Add(string kind, string? value)
    {
        // Short values (a scope, a "1") are no secret and would match by chance.
        if (value is { Length: >= 16 }) _secrets.TryAdd(value, kind);
    }

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, nextMiddleware) =>
        {
            await HarvestRequestAsync(context.Request);
            var original = context.Response.Body;
            using var copy = new MemoryStream();
            context.Response.Body = new TeeStream(original, copy);
            context.Response.OnStarting(() =>
            {
                HarvestResponseHeaders(context.Response);
                return Task.CompletedTask;
            });
            try
            {
                await nextMiddleware(context);
            }
            finally
            {
                context.Response.Body = original;
                if (context.Response.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true)
                    HarvestJson(copy.ToArray());
            }
        });
        next(app);
    };

    private async Task HarvestRequestAsync(HttpRequest request)
    {
        if (request.Headers.Authorization.ToString() is { Length: > 0 } authorization)
        {
            var space = authorization.IndexOf(' ');
            Add("authorization header", space < 0 ? authorization : authorization[(space + 1)..]);
        }
        Add("DPoP header", request.Headers["DPoP"].ToString());
        foreach (var (_, value) in request.Cookies) Add("cookie", value);
        foreach (var (key, value) in request.Query) if (SecretFields.Contains(key)) Add(key, value);

        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync();
            foreach (var (key, value) in form) if (SecretFields.Contains(key)) Add(key, value);
        }
        else if (request.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true)
        {
            request.EnableBuffering();
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            request.Body.Position = 0;
            HarvestJson(body.ToArray());
        }
    }

    private void HarvestResponseHeaders(HttpResponse response)
    {
        foreach (var cookie in response.Headers.SetCookie)
        {
            var pair = cookie!.Split(';')[0];
            Add("set-cookie", pair[(pair.IndexOf('=') + 1)..]);
        }
        if (response.Headers.Location.ToString() is { Length: > 0 } location && location.Contains('?'))
            foreach (var (key, value) in QueryHelpers.ParseQuery(location[location.IndexOf('?')..]))
                if (SecretFields.Contains(key)) Add(key, value);
    }

    private void HarvestJson(byte[] body)
    {
        if (body.Length == 0) return;
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind != JsonValueKind.Object) return;
            foreach (var property in json.RootElement.EnumerateObject())
                if (SecretFields.Contains(property.Name) && property.Value.ValueKind == JsonValueKind.String)
                    Add(property.Name, property.Value.GetString());
        }
        catch (JsonException)
        {
            // Not a JSON object after all (a problem written as text): nothing to harvest.
        }
    }

    /// <summary>Writes through to the response and keeps a copy.</summary>
    private sealed class TeeStream(Stream inner, Stream copy) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            copy.Write(buffer, offset, count);
            inner.Write(buffer, offset, count);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            copy.Write(buffer.Span);
            await inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}
