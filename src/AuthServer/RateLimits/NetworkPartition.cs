using System.Net;
using System.Net.Sockets;

namespace AuthServer.RateLimits;

/// <summary>
/// The client network a request counts against: one person or one host usually holds a whole IPv4 /24 or IPv6 /64
/// (RFC 6177 §3 assigns end sites at least a /64), so limits per address would let anyone with a subnet multiply their
/// budget. An IPv4-mapped IPv6 address (RFC 4291 §2.5.5.2) is the IPv4 address it maps.
/// </summary>
public static class NetworkPartition
{
    /// <summary>The partition for requests whose peer address is unknown (the in-memory test server).</summary>
    public const string Unknown = "unknown";

    public static string Of(IPAddress? address)
    {
        if (address is null) return Unknown;
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out var written)) return Unknown;
        if (address.AddressFamily == AddressFamily.InterNetwork && written == 4)
        {
            bytes[3] = 0;
            return new IPAddress(bytes[..4]) + "/24";
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6 && written == 16)
        {
            bytes[8..16].Clear();
            return new IPAddress(bytes[..16]) + "/64";
        }
        return Unknown;
    }

    public static string Of(HttpContext context) => Of(context.Connection.RemoteIpAddress);
}
