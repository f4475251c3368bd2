using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace AuthServer.Hosting;

/// <summary>
/// MVC reads field names in jQuery's bracket syntax (<c>a[b]</c> for <c>a.b</c>) and throws an
/// <see cref="ArgumentException"/> for one it cannot parse, such as <c>a[</c>: a malformed request, not a failure of
/// the server. These factories say so as a <see cref="BadHttpRequestException"/>, which the error handler answers with
/// 400 (see <c>AuthServerPipeline</c>).
/// </summary>
public static class MalformedFieldNames
{
    public static void AreBadRequests(MvcOptions options)
    {
        for (var i = 0; i < options.ValueProviderFactories.Count; i++)
        {
            if (options.ValueProviderFactories[i] is JQueryFormValueProviderFactory or JQueryQueryStringValueProviderFactory)
                options.ValueProviderFactories[i] = new Rejecting(options.ValueProviderFactories[i]);
        }
    }

    private sealed class Rejecting(IValueProviderFactory inner) : IValueProviderFactory
    {
        public async Task CreateValueProviderAsync(ValueProviderFactoryContext context)
        {
            try
            {
                await inner.CreateValueProviderAsync(context);
            }
            catch (ArgumentException malformed)
            {
                throw new BadHttpRequestException("A field name of the request is malformed.", StatusCodes.Status400BadRequest, malformed);
            }
        }
    }
}
