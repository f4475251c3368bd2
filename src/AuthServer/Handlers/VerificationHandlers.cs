using Microsoft.AspNetCore;
using System.Text.Json;
using AuthServer.DeviceFlow;
using AuthServer.Hosting;
using AuthServer.Phone;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Handlers;

/// <summary>
/// The end-user verification endpoint (RFC 8628 §3.3) has two doors: the browser page at <c>/device</c>, and the phone
/// API's approve and deny (<c>/api/phone/scans/{id}/approve|deny</c>, JSON). Both end in OpenIddict's verification
/// sign-in (approve) or forbid (deny), which moves the device code; neither touches token rows itself.
/// </summary>
public static class VerificationHandlers
{
    /// <summary>The phone API's decisions are verification requests too; OpenIddict matches only fixed paths.</summary>
    public sealed class RecognisePhoneDecisions : IOpenIddictServerHandler<ProcessRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessRequestContext>()
            .UseSingletonHandler<RecognisePhoneDecisions>()
            .SetOrder(OpenIddictServerHandlers.InferEndpointType.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(ProcessRequestContext context)
        {
            if (context.EndpointType == OpenIddictServerEndpointType.Unknown
                && context.Transaction.GetHttpRequest() is { } http
                && HttpMethods.IsPost(http.Method)
                && PhoneApi.TryParseDecisionPath(http.Path, out _, out _))
                context.EndpointType = OpenIddictServerEndpointType.EndUserVerification;
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// Reads a verification request. The page sends a query or a form, as OpenIddict's own extractor reads them; the
    /// phone sends JSON naming its scan, whose user code is looked up here. Either way the user code is upper-cased:
    /// RFC 8628 §6.1 asks servers to accept lower-case input, and OpenIddict's filter keeps only the alphabet's letters.
    /// </summary>
    public sealed class ExtractVerificationRequest(DeviceFlowService flow) : IOpenIddictServerHandler<ExtractEndUserVerificationRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ExtractEndUserVerificationRequestContext>()
            .AddFilter<OpenIddictServerAspNetCoreHandlerFilters.RequireHttpRequest>()
            .UseScopedHandler<ExtractVerificationRequest>()
            .SetOrder(OpenIddictServerAspNetCoreHandlers.ExtractGetOrPostRequest<ExtractEndUserVerificationRequestContext>.Descriptor.Order)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public async ValueTask HandleAsync(ExtractEndUserVerificationRequestContext context)
        {
            var http = context.Transaction.GetHttpRequest()!;
            if (PhoneApi.TryParseDecisionPath(http.Path, out var scanId, out _))
            {
                // The JSON body is the phone API's to read; OpenIddict needs only the user code of the scan.
                var state = await flow.FindByIdAsync(scanId, context.CancellationToken);
                context.Transaction.Request = new OpenIddictRequest { UserCode = state?.UserCode };
                return;
            }

            if (HttpMethods.IsGet(http.Method))
            {
                context.Transaction.Request = new OpenIddictRequest(http.Query);
            }
            else if (HttpMethods.IsPost(http.Method) && http.HasFormContentType)
            {
                try
                {
                    context.Transaction.Request = new OpenIddictRequest(await http.ReadFormAsync(context.CancellationToken));
                }
                catch (Exception e) when (e is InvalidDataException or IOException or BadHttpRequestException)
                {
                    context.Reject(Errors.InvalidRequest, "The form could not be read.");
                    return;
                }
            }
            else
            {
                context.Reject(Errors.InvalidRequest, "Send the user code as a query parameter or a form.");
                return;
            }
            if (context.Transaction.Request.UserCode is { } code) context.Transaction.Request.UserCode = code.ToUpperInvariant();
        }
    }

    private const string AppAnswersItem = "authserver:app_answers_verification";

    /// <summary>The page or the phone API writes its own answer to a decision; OpenIddict must not write one too.</summary>
    public static void AppWillAnswer(HttpContext context) => context.Items[AppAnswersItem] = true;

    /// <summary>
    /// After our forbid (a denial), OpenIddict would write a text/plain 400: the page renders its own result and the
    /// phone API its 204, so the response is left to them. A request OpenIddict itself refused gets a friendly answer
    /// in the door's own format: problem details for the phone, the error page for a browser.
    /// </summary>
    public sealed class LeaveAnswerToApp : IOpenIddictServerHandler<ApplyEndUserVerificationResponseContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyEndUserVerificationResponseContext>()
            .AddFilter<OpenIddictServerAspNetCoreHandlerFilters.RequireHttpRequest>()
            .UseSingletonHandler<LeaveAnswerToApp>()
            .SetOrder(int.MinValue + 100_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public async ValueTask HandleAsync(ApplyEndUserVerificationResponseContext context)
        {
            var http = context.Transaction.GetHttpRequest()!.HttpContext;
            if (http.Items.ContainsKey(AppAnswersItem))
            {
                context.HandleRequest();
                return;
            }
            if (context.Response.Error is null) return;

            context.HandleRequest();
            if (PhoneApi.TryParseDecisionPath(http.Request.Path, out _, out _))
            {
                await TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid request",
                    detail: context.Response.ErrorDescription).ExecuteAsync(http);
                return;
            }
            await ErrorPage.WriteAsync(http, StatusCodes.Status400BadRequest, "That request could not be read",
                context.Response.ErrorDescription ?? "Go back and try again.");
        }
    }
}
