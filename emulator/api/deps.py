"""Dependencies shared by the routers, as ``Annotated`` aliases over what the lifespan put on ``app.state``.

They are ``async`` on purpose: FastAPI runs a plain ``def`` dependency in a worker thread, a thread hop per request
that dominated the latency of the leaderboard GET.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from emulator.api.resources import ApiResources
from emulator.api.view import ResultsView


async def get_resources(request: Request) -> ApiResources:
    resources: ApiResources = request.app.state.resources
    return resources


async def get_view(request: Request) -> ResultsView:
    view: ResultsView = request.app.state.resources.view
    return view


Resources = Annotated[ApiResources, Depends(get_resources)]
View = Annotated[ResultsView, Depends(get_view)]
